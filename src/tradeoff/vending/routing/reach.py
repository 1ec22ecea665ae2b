"""Stops no vehicle can serve even on a tour of its own: found up front so the solver plans the rest.

A stop is servable by a vehicle when its demand fits, the out-and-back trip fits the vehicle's maximum
distance, and leaving the depot at shift start the truck can begin service (waiting if early) before the
window closes and still be back by shift end. If no vehicle can do that, no plan can include the stop.
"""

from __future__ import annotations

from tradeoff.vending.routing.problem import RoutingProblem, Stop, Vehicle


def unreachable(problem: RoutingProblem) -> dict[int, str]:
    """Stop index → why no vehicle can serve it (empty when every stop is servable alone)."""
    reasons: dict[int, str] = {}
    for index, stop in enumerate(problem.stops):
        why = [_why_not(problem, index, stop, vehicle) for vehicle in problem.vehicles]
        if not problem.vehicles:
            reasons[index] = f"stop {stop.key!r}: there are no vehicles"
        elif all(why):
            reasons[index] = f"stop {stop.key!r}: no vehicle can serve it ({_summary(why)})"
    return reasons


def _why_not(problem: RoutingProblem, index: int, stop: Stop, vehicle: Vehicle) -> str:
    """Empty when ``vehicle`` can serve the stop alone, otherwise the first reason it cannot."""
    depot, here = vehicle.depot, problem.location(index)
    if stop.demand > vehicle.capacity:
        return f"demand {stop.demand} > capacity {vehicle.capacity}"
    if int(problem.distance[depot, here]) + int(problem.distance[here, depot]) > vehicle.max_distance:
        return f"round trip longer than max distance {vehicle.max_distance}"
    begin = max(vehicle.shift_start + int(problem.duration[depot, here]), stop.tw_early)
    if begin > stop.tw_late:
        return f"earliest arrival {begin} is after the window closes at {stop.tw_late}"
    back = begin + stop.service + int(problem.duration[here, depot])
    if back > vehicle.shift_end:
        return f"earliest return {back} is after shift end {vehicle.shift_end}"
    return ""


def _summary(reasons: list[str]) -> str:
    distinct = list(dict.fromkeys(reasons))
    return "; ".join(distinct[:3]) + ("; …" if len(distinct) > 3 else "")
