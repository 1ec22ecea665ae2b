"""Solve an IRP instance within a time budget: a visit-cost matheuristic, then the exact MIP with lazy SECs.

1. :func:`~tradeoff.vending.irp.matheuristic.visit_cost_search` finds a good feasible solution fast.
2. :func:`~tradeoff.vending.irp.localsearch.improve` improves it by iterated local search over visit schedules
   (it stops early once perturbations stop paying, so small instances leave most of the time to the MIP).
3. The exact MIP (:class:`~tradeoff.vending.irp.mip.IrpMip`) has its LP relaxation cut with separated SECs,
   starts from the best solution, and is solved round by round: each integer point is toured into a feasible
   solution (the inventory side does not depend on the visiting order), and SECs are added for its subtours.
   With no subtour left and HiGHS reporting optimality, the result is optimal.
The best feasible solution is returned with the MIP's lower bound when one is known.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from tradeoff.vending.irp.instance import Instance
from tradeoff.vending.irp.localsearch import improve
from tradeoff.vending.irp.matheuristic import visit_cost_search
from tradeoff.vending.irp.mip import IrpMip, MipPoint
from tradeoff.vending.irp.repair import Candidate, repair
from tradeoff.vending.irp.solution import Solution
from tradeoff.vending.irp.tour import Matrix

HEURISTIC_SHARE = 0.1  # of the budget, for the visit-cost MIPs
SEARCH_SHARE = 0.35  # of the budget, up to which the local search may run
ROOT_SHARE = 0.3  # of what is left, for cutting the root LP
POLISH_SHARE = 0.1  # of the budget, kept (for n > FULL_GRAPH_UP_TO) to run the local search on the MIP's best
FULL_GRAPH_UP_TO = 15  # retailers; above this the MIP only gets candidate edges (then it is a heuristic)
NEIGHBOURS = 6  # nearest neighbours per retailer kept as candidate edges
SMALL_SUBTOUR = 6
ROUND_SHARE = 0.15  # of the budget, the time limit of one MIP round (SECs are added between rounds)
MIN_ROUND_SECONDS = 3.0  # up to this size a subtour gets one SEC per member, larger ones a single SEC


@dataclass(frozen=True)
class SolveResult:
    solution: Solution | None
    cost: float | None  # the solver's own evaluation; the checker recomputes it independently
    lower_bound: float | None
    optimal: bool
    rounds: int
    cuts: int
    seconds: float


def _components(n: int, edges: tuple[tuple[int, int], ...]) -> list[list[int]]:
    parent = list(range(n + 1))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    touched: set[int] = set()
    for a, b in edges:
        touched.update((a, b))
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for node in touched:
        groups.setdefault(find(node), []).append(node)
    return [sorted(g) for g in groups.values()]


def subtours(n: int, point: MipPoint) -> list[list[list[int]]]:
    """Per period, the connected node sets that do not contain the supplier."""
    return [[c for c in _components(n, period) if 0 not in c] for period in point.edges]


def cycles(point: MipPoint) -> list[list[int] | None]:
    """Per period, the MIP's own tour when its edges form one cycle through the supplier (else None)."""
    result: list[list[int] | None] = []
    for edges in point.edges:
        neighbours: dict[int, list[int]] = {}
        for a, b in edges:
            neighbours.setdefault(a, []).append(b)
            neighbours.setdefault(b, []).append(a)
        if not edges or any(len(v) != 2 for v in neighbours.values()):
            result.append([] if not edges else None)
            continue
        tour: list[int] = []
        previous, node = 0, neighbours[0][0]
        while node != 0 and len(tour) <= len(neighbours):
            tour.append(node)
            a, b = neighbours[node]
            previous, node = node, (b if a == previous else a)
        result.append(tour if len(tour) == len(neighbours) - 1 else None)
    return result


def candidate_edges(n: int, dist: Matrix, start: Candidate | None, neighbours: int = 6) -> list[tuple[int, int]] | None:
    """All edges for small instances; for larger ones each retailer's nearest neighbours, every supplier edge and
    the edges of the start solution (so it stays a feasible warm start). None means the complete graph.
    """
    if n <= FULL_GRAPH_UP_TO or neighbours >= n - 1:
        return None
    chosen = {(0, j) for j in range(1, n + 1)}
    for i in range(1, n + 1):
        near = sorted((j for j in range(1, n + 1) if j != i), key=lambda j: dist[i][j])[:neighbours]
        chosen.update((min(i, j), max(i, j)) for j in near)
    if start is not None:
        for route in start.solution.routes:
            stops = [0, *route, 0]
            chosen.update((min(a, b), max(a, b)) for a, b in zip(stops, stops[1:], strict=False) if a != b)
    return sorted(chosen)


def _better(best: Candidate | None, new: Candidate | None) -> Candidate | None:
    if new is None:
        return best
    return new if best is None or new.cost < best.cost - 1e-9 else best


@dataclass
class _Progress:
    best: Candidate | None
    rounds: int = 0
    cuts: int = 0


def _mip_rounds(
    instance: Instance, dist: Matrix, mip: IrpMip, progress: _Progress, *, deadline: float, round_seconds: float
) -> tuple[bool, float | None]:
    """MIP rounds with lazy SECs until no subtour is left and HiGHS proves optimality, or ``deadline``.

    Returns (proven optimal on this model's graph, HiGHS's lower bound).
    """
    bound: float | None = None
    seen: list[MipPoint] = []  # improving points of the current round, reported by HiGHS while it solves
    mip.on_improving(seen.append)
    while (remaining := deadline - time.monotonic()) > 0:
        if progress.best is not None:
            mip.set_start(progress.best.quantities, progress.best.solution.routes)
        seen.clear()
        point = mip.solve(min(remaining, round_seconds))
        progress.rounds += 1
        bound = mip.lower_bound()
        if point is None:
            break
        for found_point in [*seen, point]:
            progress.best = _better(progress.best, repair(instance, dist, found_point.quantities, cycles(found_point)))
        found = subtours(instance.n, point)
        if not any(found):
            if mip.proven_optimal():
                return True, bound
            continue  # out of round time without subtours: go on from the incumbent
        for other in seen:
            found.extend(subtours(instance.n, other))
        sets = sorted({tuple(s) for period in found for s in period})
        pairs = [(s, k) for s in sets for k in (s if len(s) <= SMALL_SUBTOUR else s[:1])]
        for period in range(instance.horizon):  # a subtour in one period is likely in the others too
            progress.cuts += mip.add_subtour_cuts(period, pairs)
    return False, bound


def solve(instance: Instance, *, seconds: float = 60.0, seed: int = 0) -> SolveResult:
    """The best solution found within about ``seconds`` of wall clock (model building included).

    On a restricted graph that is solved to optimality early, the graph is widened (twice the neighbours, up
    to the complete graph) and the rounds go on from the best solution.
    """
    started = time.monotonic()
    deadline = started + seconds
    dist: Matrix = instance.distances().tolist()
    best = visit_cost_search(instance, dist, deadline=started + HEURISTIC_SHARE * seconds, seed=seed)
    if best is not None:
        best = improve(instance, dist, best, deadline=started + SEARCH_SHARE * seconds, seed=seed)
    progress = _Progress(best)
    neighbours = NEIGHBOURS
    optimal = False
    bound: float | None = None
    restricted: list[tuple[int, int]] | None = None
    mip_deadline = deadline - POLISH_SHARE * seconds if instance.n > FULL_GRAPH_UP_TO else deadline
    while time.monotonic() < mip_deadline:
        restricted = candidate_edges(instance.n, dist, progress.best, neighbours)
        mip = IrpMip(instance, dist, seed=seed, edges=restricted)
        progress.cuts += mip.cut_root(time.monotonic() + ROOT_SHARE * (mip_deadline - time.monotonic()))
        round_seconds = max(MIN_ROUND_SECONDS, ROUND_SHARE * seconds)
        solved, bound = _mip_rounds(instance, dist, mip, progress, deadline=mip_deadline, round_seconds=round_seconds)
        if solved and restricted is None:
            optimal = True
        if not solved or restricted is None:
            break
        neighbours *= 2
    if not optimal and progress.best is not None and progress.best is not best:
        progress.best = improve(instance, dist, progress.best, deadline=deadline, seed=seed + 1)  # polish
    if restricted is not None or (bound is not None and not math.isfinite(bound)):
        bound = None  # a bound on a restricted graph bounds nothing
    elapsed = time.monotonic() - started
    best = progress.best
    if best is None:
        return SolveResult(None, None, bound, False, progress.rounds, progress.cuts, elapsed)
    return SolveResult(best.solution, best.cost, bound, optimal, progress.rounds, progress.cuts, elapsed)
