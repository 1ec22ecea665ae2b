"""The checker accepts a valid plan and names each kind of violation in hand-broken ones."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.vending.routing.builders import problem, square
from tradeoff.vending.routing.checker import check
from tradeoff.vending.routing.problem import Route, RoutingProblem, RoutingSolution, Stop, Vehicle
from tradeoff.vending.routing.schedule import build_solution


def _valid(p: RoutingProblem) -> RoutingSolution:
    return build_solution(p, [(0, [0, 1]), (1, [2, 3])], seconds=0.0, solver="hand")


def _with_route(solution: RoutingSolution, number: int, **changes: object) -> RoutingSolution:
    routes = list(solution.routes)
    routes[number] = replace(routes[number], **changes)  # type: ignore[arg-type]
    return replace(solution, routes=tuple(routes))


def _one(violations: list[str], fragment: str) -> None:
    assert any(fragment in line for line in violations), violations


def test_accepts_a_valid_plan() -> None:
    p = square()
    solution = _valid(p)
    assert solution.distance == 68
    assert check(p, solution) == []


def test_required_stop_missing() -> None:
    p = square()
    solution = _valid(p)
    broken = _with_route(solution, 1, stops=(2,), arrivals=(10,), distance=20, load=4)
    broken = replace(broken, distance=54, unserved=(3,))
    _one(check(p, broken), "required stop 'd' is not visited")


def test_stop_visited_twice_and_in_two_routes() -> None:
    p = square()
    solution = build_solution(p, [(0, [0, 1]), (1, [1, 2, 3])], seconds=0.0, solver="hand")
    violations = check(p, solution)
    _one(violations, "stop 'b' is visited 2 times")
    _one(violations, "exceeds capacity")


def test_optional_stop_at_most_once() -> None:
    p = problem([Stop("a", 1), Stop("opt", 1, required=False, prize=5)], [(0, 0), (1, 0), (2, 0)])
    solution = build_solution(p, [(0, [1, 0, 1])], seconds=0.0, solver="hand")
    _one(check(p, solution), "stop 'opt' is visited 2 times")


def test_capacity_and_claimed_load() -> None:
    p = square()
    solution = build_solution(p, [(0, [0, 1, 2]), (1, [3])], seconds=0.0, solver="hand")
    _one(check(p, solution), "load 12 exceeds capacity 10")
    _one(check(p, _with_route(_valid(p), 0, load=7)), "load is 8, the route claims 7")


def test_time_window_missed_even_with_waiting() -> None:
    stops = [Stop("a", 1, tw_early=0, tw_late=15), Stop("b", 1, tw_early=0, tw_late=15)]
    p = problem(stops, [(0, 0), (10, 0), (20, 0)])
    solution = build_solution(p, [(0, [0, 1])], seconds=0.0, solver="hand")
    _one(check(p, solution), "after its window closes 15")


def test_service_before_window_and_impossible_arrival() -> None:
    stops = [Stop("a", 1, service=5, tw_early=30, tw_late=40)]
    p = problem(stops, [(0, 0), (10, 0)])
    good = build_solution(p, [(0, [0])], seconds=0.0, solver="hand")
    assert good.routes[0].arrivals == (30,)  # waited for the window
    assert check(p, good) == []
    _one(check(p, _with_route(good, 0, arrivals=(20,))), "before its window opens 30")
    _one(check(p, _with_route(good, 0, start=25)), "cannot get there before 35")
    _one(check(p, _with_route(good, 0, end=40)), "cannot be before 45")


def test_shift_start_and_end() -> None:
    p = problem([Stop("a", 1, service=5)], [(0, 0), (10, 0)], [Vehicle("t", 5, shift_start=100, shift_end=125)])
    good = build_solution(p, [(0, [0])], seconds=0.0, solver="hand")
    assert check(p, good) == []
    _one(check(p, _with_route(good, 0, start=90, arrivals=(100,), end=125)), "before shift start 100")
    late = problem([Stop("a", 1, service=5)], [(0, 0), (10, 0)], [Vehicle("t", 5, shift_start=100, shift_end=124)])
    _one(check(late, build_solution(late, [(0, [0])], seconds=0.0, solver="hand")), "after shift end 124")


def test_max_distance() -> None:
    p = problem([Stop("a", 1)], [(0, 0), (10, 0)], [Vehicle("t", 5, max_distance=19)])
    _one(check(p, build_solution(p, [(0, [0])], seconds=0.0, solver="hand")), "exceeds the maximum 19")


def test_claimed_distances_are_recomputed() -> None:
    p = square()
    _one(check(p, _with_route(_valid(p), 0, distance=30)), "distance is 34, the route claims 30")
    _one(check(p, replace(_valid(p), distance=60)), "total distance is 68, the solution claims 60")


def test_vehicles_must_exist_and_drive_once() -> None:
    p = square()
    _one(check(p, _with_route(_valid(p), 1, vehicle="ghost")), "no such vehicle")
    _one(check(p, _with_route(_valid(p), 1, vehicle="t1")), "vehicle 't1' drives 2 routes")


def test_unserved_and_prizes_must_match() -> None:
    stops = [Stop("a", 1), Stop("opt", 1, required=False, prize=7)]
    p = problem(stops, [(0, 0), (1, 0), (50, 0)])
    solution = build_solution(p, [(0, [0])], seconds=0.0, solver="hand")
    assert solution.unserved == (1,) and solution.prize_lost == 7
    assert check(p, solution) == []
    _one(check(p, replace(solution, prize_lost=0)), "lost prizes are 7")
    _one(check(p, replace(solution, unserved=())), "not listed as unserved")
    _one(check(p, replace(solution, unserved=(0, 1))), "listed as unserved but is visited")


@pytest.mark.parametrize("arrivals", [(), (1, 2, 3)])
def test_schedule_length_must_match(arrivals: tuple[int, ...]) -> None:
    p = square()
    _one(check(p, _with_route(_valid(p), 0, arrivals=arrivals)), "arrival times for 2 stops")


def test_unknown_stop_index() -> None:
    p = square()
    bad = Route("t1", (0, 9), (10, 20), 0, 40, 40, 4)
    _one(check(p, replace(_valid(p), routes=(bad,))), "unknown stop indices [9]")
