"""A quick good solution for large instances: the inventory MIP with routing replaced by per-visit costs.

Why: the inventory side (who gets how much when) does not depend on the visiting order, so any solution of the
MIP without edges, toured period by period, is feasible. Visit costs start from the distance to the supplier and
are then re-estimated from the tours (removal saving when visited, cheapest insertion when not), re-solving a
few times; the best toured solution wins. It gives the exact MIP a warm start when that MIP is too big to find
one on its own in time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from tradeoff.vending.irp.instance import Instance
from tradeoff.vending.irp.mip import IrpMip
from tradeoff.vending.irp.repair import Candidate, repair
from tradeoff.vending.irp.tour import Matrix

SMOOTHING = 0.5
FIRST_SOLVE_SECONDS = 2.0  # the first solve gets at least this long, so a tiny budget still yields a solution


def _marginal_costs(dist: Matrix, n: int, tour: Sequence[int]) -> list[float]:
    """Per node 1..n: saving from removing it from ``tour``, or cost of inserting it (index 0: vehicle use)."""
    costs = [0.0] * (n + 1)
    stops = [0, *tour, 0]
    on_tour = set(tour)
    for pos in range(1, len(stops) - 1):
        a, v, b = stops[pos - 1], stops[pos], stops[pos + 1]
        costs[v] = float(dist[a][v] + dist[v][b] - dist[a][b])
    for v in range(1, n + 1):
        if v in on_tour:
            continue
        if not tour:
            costs[v] = float(2 * dist[0][v])
            continue
        costs[v] = float(min(dist[a][v] + dist[v][b] - dist[a][b] for a, b in zip(stops, stops[1:], strict=False)))
    return costs


def visit_cost_search(
    instance: Instance, dist: Matrix, *, deadline: float, iterations: int = 8, seed: int = 0
) -> Candidate | None:
    """The best toured solution of a few visit-cost MIPs solved before ``deadline``."""
    n, horizon = instance.n, instance.horizon
    nearest = [min((dist[i][j] for j in range(1, n + 1) if j != i), default=dist[0][i]) for i in range(n + 1)]
    costs = [[0.0] + [float(dist[0][i] + nearest[i]) / 2 for i in range(1, n + 1)] for _ in range(horizon)]
    mip = IrpMip(instance, dist, seed=seed, visit_costs=costs)
    best: Candidate | None = None
    seen: set[tuple[tuple[int, ...], ...]] = set()
    for _ in range(iterations):
        remaining = deadline - time.monotonic()
        if remaining <= 0 and best is not None:
            break
        point = mip.solve(max(remaining, FIRST_SOLVE_SECONDS) if best is None else remaining)
        if point is None:
            break
        candidate = repair(instance, dist, point.quantities)
        if best is None or candidate.cost < best.cost - 1e-9:
            best = candidate
        pattern = tuple(tuple(sorted(route)) for route in candidate.solution.routes)
        if pattern in seen:
            break
        seen.add(pattern)
        for t, route in enumerate(candidate.solution.routes):
            measured = _marginal_costs(dist, n, route)
            costs[t] = [SMOOTHING * old + (1 - SMOOTHING) * new for old, new in zip(costs[t], measured, strict=True)]
        mip.set_visit_costs(costs)
    return best
