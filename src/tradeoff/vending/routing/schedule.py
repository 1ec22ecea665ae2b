"""Turn a visiting order into a :class:`Route`: earliest schedule (waiting allowed), distance and load.

Used where a solver only returns orders (OR-Tools, ``.sol`` files). The checker does not use it: it
recomputes everything on its own, so a bug here cannot hide a violation.
"""

from __future__ import annotations

from collections.abc import Sequence

from tradeoff.vending.routing.problem import Route, RoutingProblem, RoutingSolution


def build_route(problem: RoutingProblem, vehicle: int, stops: Sequence[int]) -> Route:
    """Leave at shift start, serve ``stops`` in order as early as allowed, return to the depot."""
    truck = problem.vehicles[vehicle]
    previous = truck.depot
    clock = truck.shift_start
    distance = 0
    arrivals: list[int] = []
    for index in stops:
        stop, here = problem.stops[index], problem.location(index)
        clock = max(clock + int(problem.duration[previous, here]), stop.tw_early)
        distance += int(problem.distance[previous, here])
        arrivals.append(clock)
        clock += stop.service
        previous = here
    distance += int(problem.distance[previous, truck.depot])
    end = clock + int(problem.duration[previous, truck.depot])
    load = sum(problem.stops[index].demand for index in stops)
    return Route(truck.name, tuple(stops), tuple(arrivals), truck.shift_start, end, distance, load)


def build_solution(
    problem: RoutingProblem,
    orders: Sequence[tuple[int, Sequence[int]]],
    *,
    seconds: float,
    solver: str,
    meta: dict[str, object] | None = None,
) -> RoutingSolution:
    """A solution from ``(vehicle index, stop order)`` pairs; empty orders are dropped.

    ``feasible`` is left True here only as a claim; callers run the checker and replace it.
    """
    routes = tuple(build_route(problem, vehicle, order) for vehicle, order in orders if order)
    visited = {index for route in routes for index in route.stops}
    unserved = tuple(index for index in range(len(problem.stops)) if index not in visited)
    prize_lost = sum(problem.stops[index].prize for index in unserved if not problem.stops[index].required)
    return RoutingSolution(
        routes=routes,
        distance=sum(route.distance for route in routes),
        unserved=unserved,
        prize_lost=prize_lost,
        feasible=True,
        seconds=seconds,
        solver=solver,
        meta=dict(meta or {}),
    )
