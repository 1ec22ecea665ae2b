"""Finding violated subtour elimination constraints in a fractional (LP) point, by minimum cuts.

Why: adding SECs only for subtours of integer points lets HiGHS explore many useless integer points; cutting
the LP relaxation first (as a branch-and-cut does at the root) gives a much tighter model to start from.
For each retailer k with ``y_k > 0`` the minimum cut between the supplier and k in the graph weighted by the
edge values is compared with ``2·y_k``; a smaller cut gives a set S (k's side) whose SEC is violated.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

SCALE = 10_000  # scipy's max-flow wants integer capacities
TOLERANCE = 1e-3


def _sink_side(n_nodes: int, residual: dict[int, dict[int, int]]) -> list[int]:
    seen = {0}
    queue = deque([0])
    while queue:
        a = queue.popleft()
        for b, cap in residual[a].items():
            if cap > 0 and b not in seen:
                seen.add(b)
                queue.append(b)
    return [v for v in range(n_nodes) if v not in seen]


def _reachable(start: int, graph: csr_matrix, allowed: set[int]) -> list[int]:
    """Nodes of ``allowed`` joined to ``start`` by positive edges inside ``allowed`` (drops unvisited strays)."""
    seen = {start}
    queue = deque([start])
    while queue:
        a = queue.popleft()
        for b in graph.indices[graph.indptr[a] : graph.indptr[a + 1]]:
            b = int(b)
            if b in allowed and b not in seen:
                seen.add(b)
                queue.append(b)
    return sorted(seen)


def violated_sets(
    n: int, edges: Sequence[tuple[int, int]], x: Sequence[float], y: Sequence[float]
) -> list[tuple[list[int], int]]:
    """``(S, k)`` pairs whose SEC the point (x on ``edges``, y per node 0..n) violates; each node in one S at most."""
    rows, cols, caps = [], [], []
    for (a, b), value in zip(edges, x, strict=True):
        cap = round(value * SCALE)
        if cap > 0:
            rows += [a, b]
            cols += [b, a]
            caps += [cap, cap]
    if not caps:
        return []
    graph = csr_matrix((np.asarray(caps, dtype=np.int32), (rows, cols)), shape=(n + 1, n + 1))
    found: list[tuple[list[int], int]] = []
    covered: set[int] = set()
    for k in sorted(range(1, n + 1), key=lambda v: -y[v]):
        if y[k] < TOLERANCE or k in covered:
            continue
        result = maximum_flow(graph, 0, k)
        if result.flow_value / SCALE >= 2 * y[k] - TOLERANCE:
            continue
        flow = result.flow.tocoo()
        residual: dict[int, dict[int, int]] = {v: {} for v in range(n + 1)}
        coo = graph.tocoo()
        for a, b, cap in zip(coo.row, coo.col, coo.data, strict=True):
            residual[int(a)][int(b)] = residual[int(a)].get(int(b), 0) + int(cap)
        for a, b, f in zip(flow.row, flow.col, flow.data, strict=True):
            residual[int(a)][int(b)] = residual[int(a)].get(int(b), 0) - int(f)
        side = _reachable(k, graph, set(_sink_side(n + 1, residual)))
        if k in side and 0 not in side:
            found.append((side, k))
            covered.update(side)
    return found
