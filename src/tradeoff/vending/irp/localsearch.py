"""Local search over visit schedules: drop, add or move one visit, price the quantities exactly with an LP.

Why: the visit-cost MIP only estimates routing; this search sees the true tour lengths. A schedule (which
retailers are visited in which period) fixes the routing (one tour per period, improved by 2-opt/or-opt) and
leaves the quantities to an LP that minimises holding cost under the inventory rules; a move is kept when the
toured cost drops. First improvement, random order, until no move helps or time runs out.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass

from tradeoff.vending.irp.instance import Instance
from tradeoff.vending.irp.mip import IrpMip
from tradeoff.vending.irp.repair import Candidate, repair
from tradeoff.vending.irp.tour import Matrix, improve_tour, insert_cheapest, tour_length

ACCEPT_WORSE = 0.005  # the search moves on from local optima up to 0.5 % worse than the current one
PATTERN_CANDIDATES = 3  # per retailer, the patterns with the best routing estimate that get priced
Move = tuple[str, int, int, int]  # (kind, retailer, from period, to period)


class _Pricer:
    """Holding cost of the best quantities for a fixed schedule (an LP), cached by schedule."""

    def __init__(self, instance: Instance, dist: Matrix, seed: int) -> None:
        zero = [[0.0] * (instance.n + 1) for _ in range(instance.horizon)]
        self.model = IrpMip(instance, dist, seed=seed, visit_costs=zero)
        self.model.relax()
        self.n = instance.n
        self.cache: dict[tuple[frozenset[int], ...], tuple[float, tuple[tuple[float, ...], ...]] | None] = {}

    def price(self, schedule: tuple[frozenset[int], ...]) -> tuple[float, tuple[tuple[float, ...], ...]] | None:
        if schedule not in self.cache:
            self.model.fix_visits([[i in period for i in range(1, self.n + 1)] for period in schedule])
            self.cache[schedule] = self.model.solve_lp()
        return self.cache[schedule]


def _moves(n: int, horizon: int, schedule: tuple[frozenset[int], ...], rng: random.Random) -> list[Move]:
    moves: list[Move] = []
    for t, period in enumerate(schedule):
        for i in range(1, n + 1):
            if i in period:
                moves.append(("drop", i, t, t))
                moves.extend(("move", i, t, u) for u in range(horizon) if i not in schedule[u])
            else:
                moves.append(("add", i, t, t))
    rng.shuffle(moves)
    return moves


@dataclass
class _State:
    routes: list[list[int]]
    schedule: tuple[frozenset[int], ...]
    cost: float


def _apply(dist: Matrix, routes: list[list[int]], move: Move) -> list[list[int]]:
    kind, i, t, u = move
    new_routes = list(routes)
    if kind in ("drop", "move"):
        new_routes[t] = [v for v in routes[t] if v != i]
    if kind in ("add", "move"):
        new_routes[u] = insert_cheapest(dist, new_routes[u], i)
    return new_routes


def _alone_feasible(instance: Instance, i: int, periods: frozenset[int]) -> bool:
    """Can retailer ``i`` avoid a stockout when visited exactly in ``periods`` (filling up to U each time)?"""
    r = instance.retailers[i - 1]
    level = r.start
    for t in range(instance.horizon):
        if t in periods:
            level += min(r.max_level - level, instance.capacity)
        level -= r.demand
        if level < r.min_level - 1e-9:
            return False
    return True


def _pattern_step(
    instance: Instance, dist: Matrix, pricer: _Pricer, state: _State, deadline: float, rng: random.Random
) -> _State | None:
    """Give one retailer a whole new set of visit periods (same count ±1) if that lowers the toured cost.

    Single moves cannot do this: under the maximum-level policy shifting one visit alone usually causes a
    stockout, while shifting all of a retailer's visits together can put it on better routes.
    """
    horizon = instance.horizon
    routing = [tour_length(dist, r) for r in state.routes]
    retailers = list(range(1, instance.n + 1))
    rng.shuffle(retailers)
    for i in retailers:
        if time.monotonic() >= deadline:
            return None
        current = frozenset(t for t in range(horizon) if i in state.schedule[t])
        base = [[v for v in route if v != i] for route in state.routes]
        options: list[tuple[float, frozenset[int]]] = []
        for size in range(max(1, len(current) - 1), min(horizon, len(current) + 1) + 1):
            for combo in itertools.combinations(range(horizon), size):
                periods = frozenset(combo)
                if periods == current or not _alone_feasible(instance, i, periods):
                    continue
                delta = 0.0
                for t in range(horizon):
                    if t in periods:
                        stops = [0, *base[t], 0]
                        delta += min(
                            dist[a][i] + dist[i][b] - dist[a][b] for a, b in zip(stops, stops[1:], strict=False)
                        )
                        delta += tour_length(dist, base[t]) - routing[t]
                    elif t in current:
                        delta += tour_length(dist, base[t]) - routing[t]
                options.append((delta, periods))
        options.sort(key=lambda item: item[0])
        for _, periods in options[:PATTERN_CANDIDATES]:
            new_routes = [insert_cheapest(dist, base[t], i) if t in periods else base[t] for t in range(horizon)]
            new_schedule = tuple(frozenset(r) for r in new_routes)
            priced = pricer.price(new_schedule)
            if priced is None:
                continue
            new_routes = [improve_tour(dist, r) if r != state.routes[t] else r for t, r in enumerate(new_routes)]
            cost = priced[0] + sum(tour_length(dist, r) for r in new_routes)
            if cost < state.cost - 1e-6:
                return _State(new_routes, new_schedule, cost)
    return None


def _descend(
    instance: Instance, dist: Matrix, pricer: _Pricer, state: _State, deadline: float, rng: random.Random
) -> _State:
    """First-improvement descent: single moves until none helps, then a pattern move, and again."""
    while time.monotonic() < deadline:
        state = _single_descend(instance, dist, pricer, state, deadline, rng)
        moved = _pattern_step(instance, dist, pricer, state, deadline, rng)
        if moved is None:
            break
        state = moved
    return state


def _single_descend(
    instance: Instance, dist: Matrix, pricer: _Pricer, state: _State, deadline: float, rng: random.Random
) -> _State:
    """First-improvement descent from ``state`` until no single move helps (or time runs out)."""
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        routing = sum(tour_length(dist, r) for r in state.routes)
        for move in _moves(instance.n, instance.horizon, state.schedule, rng):
            if time.monotonic() >= deadline:
                break
            new_routes = _apply(dist, state.routes, move)
            touched = {move[2], move[3]}
            new_routing = routing + sum(
                tour_length(dist, new_routes[p]) - tour_length(dist, state.routes[p]) for p in touched
            )
            new_schedule = tuple(frozenset(r) for r in new_routes)
            priced = pricer.price(new_schedule)
            if priced is None or priced[0] + new_routing >= state.cost - 1e-6:
                continue
            for p in touched:
                new_routes[p] = improve_tour(dist, new_routes[p])
            state = _State(new_routes, new_schedule, priced[0] + sum(tour_length(dist, r) for r in new_routes))
            improved = True
            break
    return state


def _perturb(
    instance: Instance, dist: Matrix, pricer: _Pricer, state: _State, rng: random.Random, size: int
) -> _State | None:
    """``size`` random feasible changes, whatever they cost (to leave a local optimum): each gives a random
    retailer another feasible set of as many visit periods, or failing that applies a random single move.
    """
    routes = state.routes
    horizon = instance.horizon
    for _ in range(size):
        i = rng.randint(1, instance.n)
        current = frozenset(t for t in range(horizon) if i in routes[t])
        patterns = [
            frozenset(combo)
            for combo in itertools.combinations(range(horizon), max(1, len(current)))
            if frozenset(combo) != current and _alone_feasible(instance, i, frozenset(combo))
        ]
        rng.shuffle(patterns)
        candidates = [
            [
                insert_cheapest(dist, [v for v in r if v != i], i) if t in p else [v for v in r if v != i]
                for t, r in enumerate(routes)
            ]
            for p in patterns[:5]
        ]
        moves = _moves(instance.n, horizon, tuple(frozenset(r) for r in routes), rng)[:5]
        candidates += [_apply(dist, routes, move) for move in moves]
        for candidate in candidates:
            if pricer.price(tuple(frozenset(r) for r in candidate)) is not None:
                routes = candidate
                break
    schedule = tuple(frozenset(r) for r in routes)
    priced = pricer.price(schedule)
    if priced is None:
        return None
    routes = [improve_tour(dist, r) for r in routes]
    return _State(routes, schedule, priced[0] + sum(tour_length(dist, r) for r in routes))


def improve(
    instance: Instance, dist: Matrix, start: Candidate, *, deadline: float, seed: int = 0, patience: int = 30
) -> Candidate:
    """``start`` improved by descent and random restarts around the best (iterated local search).

    Stops at ``deadline`` or after ``patience`` perturbations in a row that did not improve the best.
    """
    rng = random.Random(seed)
    pricer = _Pricer(instance, dist, seed)
    routes = [list(r) for r in start.solution.routes]
    schedule = tuple(frozenset(r) for r in routes)
    priced = pricer.price(schedule)
    if priced is None:
        return start
    best = _descend(
        instance,
        dist,
        pricer,
        _State(routes, schedule, priced[0] + sum(tour_length(dist, r) for r in routes)),
        deadline,
        rng,
    )
    failures = 0
    current = best
    while failures < patience and time.monotonic() < deadline:
        kicked = _perturb(instance, dist, pricer, current, rng, size=rng.randint(1, 3))
        if kicked is None:
            failures += 1
            continue
        local = _descend(instance, dist, pricer, kicked, deadline, rng)
        if local.cost < current.cost * (1 + ACCEPT_WORSE):
            current = local  # a slightly worse local optimum is a new place to search from
        if local.cost < best.cost - 1e-6:
            best, current, failures = local, local, 0
        else:
            failures += 1
    final = pricer.price(best.schedule)
    if final is None:  # pragma: no cover - the schedule was priced feasible before
        return start
    candidate = repair(instance, dist, final[1])
    return candidate if candidate.cost < start.cost - 1e-9 else start
