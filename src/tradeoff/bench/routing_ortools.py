"""The OR-Tools baseline for ``tradeoff bench routing``: the standard routing-library setup on the same problem.

PATH_CHEAPEST_ARC to start, GUIDED_LOCAL_SEARCH until the time limit — the configuration PyVRP compared
against. Capacity is a dimension; time windows, shifts and maximum distance become dimensions when the
problem has them; optional stops are disjunctions whose penalty is their prize. OR-Tools is a development
dependency, so it is imported only when the baseline runs. Its routes go through the same checker as ours.
"""

from __future__ import annotations

import time
from typing import Any

from tradeoff.vending.routing.checker import check
from tradeoff.vending.routing.problem import NO_LIMIT, RoutingProblem, RoutingSolution
from tradeoff.vending.routing.schedule import build_solution


def solve_ortools(problem: RoutingProblem, *, seconds: float) -> RoutingSolution:
    """Best OR-Tools solution within ``seconds``; ``feasible`` comes from our checker."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    started = time.perf_counter()
    size, fleet = problem.num_locations, len(problem.vehicles)
    if not problem.stops or not fleet:
        return _finish(problem, [], started, status="trivial")
    depots = [vehicle.depot for vehicle in problem.vehicles]
    manager = pywrapcp.RoutingIndexManager(size, fleet, depots, depots)
    routing = pywrapcp.RoutingModel(manager)
    distance = routing.RegisterTransitMatrix(problem.distance.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(distance)
    _add_capacity(problem, routing)
    _add_time(problem, manager, routing)
    if any(vehicle.max_distance < NO_LIMIT for vehicle in problem.vehicles):
        limits = [vehicle.max_distance for vehicle in problem.vehicles]
        routing.AddDimensionWithVehicleCapacity(distance, 0, limits, True, "Distance")
    for depot in set(range(problem.depots)) - set(depots):  # a depot no truck uses is not a place to visit
        routing.AddDisjunction([manager.NodeToIndex(depot)], 0)
    for index, stop in enumerate(problem.stops):
        if not stop.required:
            routing.AddDisjunction([manager.NodeToIndex(problem.location(index))], stop.prize)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, round(seconds * 1000)))
    found = routing.SolveWithParameters(params)
    if found is None:
        return _finish(problem, [], started, status=f"no solution (status {routing.status()})")
    orders: list[tuple[int, list[int]]] = []
    for vehicle in range(fleet):
        index, order = routing.Start(vehicle), []
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            if node >= problem.depots:
                order.append(node - problem.depots)
            index = found.Value(routing.NextVar(index))
        orders.append((vehicle, order))
    return _finish(problem, orders, started, status="solved")


def _add_capacity(problem: RoutingProblem, routing: Any) -> None:
    demand = [0] * problem.depots + [stop.demand for stop in problem.stops]
    callback = routing.RegisterUnaryTransitVector(demand)
    capacities = [vehicle.capacity for vehicle in problem.vehicles]
    routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, "Capacity")


def _add_time(problem: RoutingProblem, manager: Any, routing: Any) -> None:
    """A time dimension only when something constrains time (CVRP benchmarks have none)."""
    windows = any(stop.tw_early > 0 or stop.tw_late < NO_LIMIT for stop in problem.stops)
    shifts = any(vehicle.shift_start > 0 or vehicle.shift_end < NO_LIMIT for vehicle in problem.vehicles)
    if not windows and not shifts:
        return
    service = [0] * problem.depots + [stop.service for stop in problem.stops]
    travel = [[int(cell) + service[row] for cell in line] for row, line in enumerate(problem.duration.tolist())]
    callback = routing.RegisterTransitMatrix(travel)
    routing.AddDimension(callback, NO_LIMIT, NO_LIMIT, False, "Time")
    time_dimension = routing.GetDimensionOrDie("Time")
    for index, stop in enumerate(problem.stops):
        time_dimension.CumulVar(manager.NodeToIndex(problem.location(index))).SetRange(stop.tw_early, stop.tw_late)
    for number, vehicle in enumerate(problem.vehicles):
        time_dimension.CumulVar(routing.Start(number)).SetMin(vehicle.shift_start)
        time_dimension.CumulVar(routing.End(number)).SetMax(vehicle.shift_end)


def _finish(
    problem: RoutingProblem, orders: list[tuple[int, list[int]]], started: float, *, status: str
) -> RoutingSolution:
    draft = build_solution(problem, orders, seconds=time.perf_counter() - started, solver="ortools")
    violations = check(problem, draft)
    return RoutingSolution(
        routes=draft.routes,
        distance=draft.distance,
        unserved=draft.unserved,
        prize_lost=draft.prize_lost,
        feasible=not violations,
        seconds=draft.seconds,
        solver="ortools",
        meta={"violations": violations, "status": status},
    )
