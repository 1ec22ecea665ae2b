"""From shipped quantities to a feasible solution: tour exactly the retailers that receive goods each period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tradeoff.vending.irp.instance import Instance
from tradeoff.vending.irp.objective import holding_cost, routing_cost
from tradeoff.vending.irp.solution import Solution
from tradeoff.vending.irp.tour import Matrix, improve_tour, solve_tour, tour_length

QTY_EPS = 1e-9


@dataclass(frozen=True)
class Candidate:
    solution: Solution
    cost: float
    quantities: tuple[tuple[float, ...], ...]  # [t][i-1]


def repair(
    instance: Instance,
    dist: Matrix,
    quantities: Sequence[Sequence[float]],
    hints: Sequence[Sequence[int] | None] | None = None,
) -> Candidate:
    """Quantities from a MIP (feasible for the inventory rules) toured period by period, with their cost.

    ``hints[t]``, when given, is a tour the caller already has (e.g. the MIP's own cycle); the shorter of it
    (restricted to the retailers that receive goods) and a freshly built tour is used.
    """
    frozen = tuple(tuple(period) for period in quantities)
    routes: list[list[int]] = []
    deliveries: list[dict[int, float]] = []
    for t, period in enumerate(frozen):
        visited = [i for i, qty in enumerate(period, start=1) if qty > QTY_EPS]
        tour = solve_tour(dist, visited)
        hint = hints[t] if hints is not None else None
        if hint is not None:
            wanted = set(visited)
            other = improve_tour(dist, [v for v in hint if v in wanted])
            if set(other) == wanted and tour_length(dist, other) < tour_length(dist, tour):
                tour = other
        routes.append(tour)
        deliveries.append({i: period[i - 1] for i in visited})
    cost = routing_cost(dist, routes) + holding_cost(instance, frozen)
    return Candidate(Solution.build(routes, deliveries), cost, frozen)
