"""An independent feasibility check of a routing solution: no solver, only the problem's own numbers.

Everything a solution claims is recomputed from the matrices and compared: coverage, loads, the schedule
(travel, waiting, service, windows, shift), distances and lost prizes. Solvers' outputs (ours and the
OR-Tools baseline) and published ``.sol`` routes all go through the same check.
"""

from __future__ import annotations

from collections import Counter

from tradeoff.vending.routing.problem import Route, RoutingProblem, RoutingSolution, Vehicle


def check(problem: RoutingProblem, solution: RoutingSolution) -> list[str]:
    """Every violation found, in plain words; an empty list means the solution is feasible."""
    violations: list[str] = []
    vehicles = {vehicle.name: vehicle for vehicle in problem.vehicles}
    used = Counter(route.vehicle for route in solution.routes)
    violations += [f"vehicle {name!r} drives {count} routes" for name, count in used.items() if count > 1]
    total = 0
    for number, route in enumerate(solution.routes):
        label = f"route {number} ({route.vehicle})"
        vehicle = vehicles.get(route.vehicle)
        if vehicle is None:
            violations.append(f"{label}: no such vehicle")
            continue
        bad = [index for index in route.stops if not 0 <= index < len(problem.stops)]
        if bad:
            violations.append(f"{label}: unknown stop indices {bad}")
            continue
        violations += _check_route(problem, vehicle, route, label)
        total += _route_distance(problem, vehicle, route)
    if total != solution.distance:
        violations.append(f"total distance is {total}, the solution claims {solution.distance}")
    violations += _check_coverage(problem, solution)
    return violations


def _route_distance(problem: RoutingProblem, vehicle: Vehicle, route: Route) -> int:
    path = [vehicle.depot, *(problem.location(index) for index in route.stops), vehicle.depot]
    return sum(int(problem.distance[a, b]) for a, b in zip(path, path[1:], strict=False))


def _check_route(problem: RoutingProblem, vehicle: Vehicle, route: Route, label: str) -> list[str]:
    found: list[str] = []
    load = sum(problem.stops[index].demand for index in route.stops)
    if load != route.load:
        found.append(f"{label}: load is {load}, the route claims {route.load}")
    if load > vehicle.capacity:
        found.append(f"{label}: load {load} exceeds capacity {vehicle.capacity}")
    distance = _route_distance(problem, vehicle, route)
    if distance != route.distance:
        found.append(f"{label}: distance is {distance}, the route claims {route.distance}")
    if distance > vehicle.max_distance:
        found.append(f"{label}: distance {distance} exceeds the maximum {vehicle.max_distance}")
    return found + _check_schedule(problem, vehicle, route, label)


def _check_schedule(problem: RoutingProblem, vehicle: Vehicle, route: Route, label: str) -> list[str]:
    """The claimed times must be physically possible (travel + service, waiting allowed) and inside windows."""
    if len(route.arrivals) != len(route.stops):
        return [f"{label}: {len(route.arrivals)} arrival times for {len(route.stops)} stops"]
    found: list[str] = []
    if route.start < vehicle.shift_start:
        found.append(f"{label}: leaves at {route.start}, before shift start {vehicle.shift_start}")
    previous, ready = vehicle.depot, route.start
    for index, arrival in zip(route.stops, route.arrivals, strict=True):
        stop, here = problem.stops[index], problem.location(index)
        earliest = ready + int(problem.duration[previous, here])
        if arrival < earliest:
            found.append(f"{label}: service at {stop.key!r} starts at {arrival}, cannot get there before {earliest}")
        if arrival < stop.tw_early:
            found.append(
                f"{label}: service at {stop.key!r} starts at {arrival}, before its window opens {stop.tw_early}"
            )
        if arrival > stop.tw_late:
            found.append(
                f"{label}: service at {stop.key!r} starts at {arrival}, after its window closes {stop.tw_late}"
            )
        previous, ready = here, max(arrival, earliest) + stop.service
    back = ready + int(problem.duration[previous, vehicle.depot])
    if route.end < back:
        found.append(f"{label}: claims to be back at {route.end}, cannot be before {back}")
    if max(route.end, back) > vehicle.shift_end:
        found.append(f"{label}: back at {max(route.end, back)}, after shift end {vehicle.shift_end}")
    return found


def _check_coverage(problem: RoutingProblem, solution: RoutingSolution) -> list[str]:
    found: list[str] = []
    visits = Counter(index for route in solution.routes for index in route.stops)
    for index, count in sorted(visits.items()):
        if count > 1 and 0 <= index < len(problem.stops):
            found.append(f"stop {problem.stops[index].key!r} is visited {count} times")
    missing = [index for index in range(len(problem.stops)) if visits[index] == 0]
    for index in missing:
        if problem.stops[index].required:
            found.append(f"required stop {problem.stops[index].key!r} is not visited")
    claimed = set(solution.unserved)
    for index in sorted(claimed & set(visits)):
        found.append(f"stop {index} is listed as unserved but is visited")
    for index in missing:
        if index not in claimed:
            found.append(f"stop {problem.stops[index].key!r} is not visited but not listed as unserved")
    lost = sum(problem.stops[index].prize for index in missing if not problem.stops[index].required)
    if lost != solution.prize_lost:
        found.append(f"lost prizes are {lost}, the solution claims {solution.prize_lost}")
    return found
