"""The OR-Tools baseline returns routes the independent checker accepts (tests ``bench/routing_ortools``)."""

from __future__ import annotations

from tests.unit.vending.routing.builders import problem, square
from tradeoff.bench.routing_ortools import solve_ortools
from tradeoff.vending.routing.checker import check
from tradeoff.vending.routing.problem import Stop, Vehicle


def test_cvrp() -> None:
    p = square()
    solution = solve_ortools(p, seconds=0.2)
    assert solution.solver == "ortools" and solution.feasible
    assert solution.distance == 68
    assert check(p, solution) == []


def test_windows_shifts_optional_stops_and_max_distance() -> None:
    stops = [
        Stop("a", 1, service=3, tw_early=50, tw_late=60),
        Stop("b", 1, service=2),
        Stop("far", 1, required=False, prize=2),
    ]
    fleet = [Vehicle("t", 5, shift_start=5, shift_end=200, max_distance=100)]
    p = problem(stops, [(0, 0), (10, 0), (20, 0), (500, 0)], fleet)
    solution = solve_ortools(p, seconds=0.2)
    assert solution.feasible, solution.meta
    assert solution.unserved == (2,) and solution.prize_lost == 2


def test_two_depots_one_unused() -> None:
    p = problem([Stop("a", 1)], [(0, 0), (50, 50), (1, 0)], [Vehicle("t", 5, depot=0)], depots=2)
    solution = solve_ortools(p, seconds=0.1)
    assert solution.feasible and solution.distance == 2


def test_nothing_to_do() -> None:
    solution = solve_ortools(problem([], [(0, 0)]), seconds=0.1)
    assert solution.feasible and solution.routes == ()
