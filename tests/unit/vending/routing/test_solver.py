"""The PyVRP layer: its plans pass the independent checker, and awkward inputs get clear answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.vending.routing.builders import problem, square
from tradeoff.core.errors import InvalidInput
from tradeoff.vending.routing.checker import check
from tradeoff.vending.routing.problem import RoutingProblem, Stop, Vehicle
from tradeoff.vending.routing.solver import solve

FAST = 0.05


def test_square_is_solved_optimally_and_checks() -> None:
    p = square()
    solution = solve(p, seconds=FAST)
    assert solution.feasible and solution.solver == "pyvrp"
    assert solution.distance == 68
    assert check(p, solution) == []
    assert sorted(route.vehicle for route in solution.routes) == ["t1", "t2"]
    assert solution.meta["violations"] == []


def test_zero_stops() -> None:
    p = problem([], [(0, 0)])
    solution = solve(p, seconds=FAST)
    assert solution.routes == () and solution.distance == 0 and solution.feasible


def test_required_stop_heavier_than_every_vehicle_is_an_error_naming_it() -> None:
    p = problem([Stop("a", 1), Stop("machine-42", 11)], [(0, 0), (1, 0), (2, 0)])
    with pytest.raises(InvalidInput, match=r"stops\[1\] \(machine-42\).*exceeds every vehicle's capacity"):
        solve(p, seconds=FAST)


def test_optional_stop_too_heavy_is_left_out() -> None:
    p = problem([Stop("a", 1), Stop("big", 50, required=False, prize=1000)], [(0, 0), (1, 0), (2, 0)])
    solution = solve(p, seconds=FAST)
    assert solution.feasible and solution.unserved == (1,) and solution.prize_lost == 1000
    assert "big" in solution.meta["excluded"]  # type: ignore[operator]


def test_unreachable_time_window_gives_an_infeasible_plan_with_reasons() -> None:
    stops = [Stop("near", 1), Stop("far", 1, tw_early=0, tw_late=5)]
    p = problem(stops, [(0, 0), (3, 0), (100, 0)])
    solution = solve(p, seconds=FAST)
    assert not solution.feasible
    assert solution.unserved == (1,)
    assert [route.stops for route in solution.routes] == [(0,)]  # the rest is still planned
    violations = solution.meta["violations"]
    assert isinstance(violations, list)
    assert any("'far'" in line and "window closes at 5" in line for line in violations)


def test_jointly_infeasible_windows_are_reported_not_hidden() -> None:
    # Each stop is reachable alone, but one truck cannot be at both at time 10.
    stops = [Stop("a", 1, tw_early=10, tw_late=10), Stop("b", 1, tw_early=10, tw_late=10)]
    p = problem(stops, [(0, 0), (10, 0), (-10, 0)], [Vehicle("only", 5)])
    solution = solve(p, seconds=FAST)
    assert not solution.feasible
    assert solution.meta["violations"]


def test_arrivals_come_from_the_schedule_with_waiting() -> None:
    stops = [Stop("a", 1, service=3, tw_early=50, tw_late=60), Stop("b", 1, service=2)]
    p = problem(stops, [(0, 0), (10, 0), (20, 0)], [Vehicle("t", 5)])
    solution = solve(p, seconds=FAST)
    assert check(p, solution) == []
    (route,) = solution.routes
    times = dict(zip(route.stops, route.arrivals, strict=True))
    assert 50 <= times[0] <= 60
    assert route.end >= max(route.arrivals)


def test_prize_collecting_skips_only_what_is_not_worth_it() -> None:
    stops = [
        Stop("core", 1),
        Stop("worth-it", 1, required=False, prize=1000),
        Stop("not-worth-it", 1, required=False, prize=1),
    ]
    p = problem(stops, [(0, 0), (10, 0), (10, 5), (300, 300)])
    solution = solve(p, seconds=FAST)
    assert solution.feasible
    assert solution.unserved == (2,) and solution.prize_lost == 1
    assert check(p, solution) == []


def test_two_depots_and_heterogeneous_fleet() -> None:
    stops = [Stop("w1", 3), Stop("w2", 3), Stop("e1", 3), Stop("e2", 3)]
    points = [(0, 0), (100, 0), (-5, 1), (-5, -1), (105, 1), (105, -1)]
    fleet = [Vehicle("west", 6, depot=0), Vehicle("east", 6, depot=1), Vehicle("spare", 2, depot=1)]
    p = problem(stops, points, fleet, depots=2)
    solution = solve(p, seconds=FAST)
    assert check(p, solution) == []
    by_vehicle = {route.vehicle: set(route.stops) for route in solution.routes}
    assert by_vehicle == {"west": {0, 1}, "east": {2, 3}}


def test_max_distance_splits_routes() -> None:
    stops = [Stop("a", 1), Stop("b", 1)]
    p = problem(
        stops, [(0, 0), (10, 0), (-10, 0)], [Vehicle("t1", 5, max_distance=20), Vehicle("t2", 5, max_distance=20)]
    )
    solution = solve(p, seconds=FAST)
    assert solution.feasible and len(solution.routes) == 2


def test_no_vehicles_with_required_stops_is_an_error() -> None:
    with pytest.raises(InvalidInput, match="no vehicle"):
        solve(problem([Stop("a", 1)], [(0, 0), (1, 0)], []), seconds=FAST)


def test_no_vehicles_and_only_optional_stops_serves_nothing() -> None:
    solution = solve(problem([Stop("a", 1, required=False, prize=3)], [(0, 0), (1, 0)], []), seconds=FAST)
    assert solution.feasible and solution.unserved == (0,) and solution.prize_lost == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"distance": np.zeros((2, 2), dtype=np.int64)}, "distance"),
        ({"duration": -np.ones((5, 5), dtype=np.int64)}, "duration"),
        ({"distance": np.ones((5, 5), dtype=np.int64)}, "distance"),
        ({"distance": np.zeros((5, 5), dtype=np.float64)}, "distance"),
        ({"vehicles": [Vehicle("t", 10, depot=3)]}, "vehicles[0] (t)"),
        ({"vehicles": [Vehicle("t", 10), Vehicle("t", 10)]}, "vehicles"),
        ({"stops": [Stop("a", 1, tw_early=9, tw_late=3)] * 4}, "stops[0] (a)"),
        ({"stops": [Stop("a", -1)] * 4}, "stops[0] (a)"),
    ],
)
def test_invalid_input_names_the_field(change: dict[str, object], field: str) -> None:
    base = square()
    values = {name: getattr(base, name) for name in ("depots", "stops", "vehicles", "distance", "duration")}
    bad = RoutingProblem(**(values | change))
    with pytest.raises(InvalidInput) as caught:
        solve(bad, seconds=FAST)
    assert caught.value.field == field


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(-50, 50),
            st.integers(-50, 50),
            st.integers(0, 6),
            st.integers(0, 200),
            st.booleans(),
        ),
        min_size=1,
        max_size=9,
    ),
    st.integers(1, 3),
)
def test_random_problems_pass_the_checker_or_say_why(rows: list[tuple[int, int, int, int, bool]], trucks: int) -> None:
    stops = [
        Stop(f"s{i}", demand, service=2, tw_early=early, tw_late=early + 120, required=required, prize=40)
        for i, (_, _, demand, early, required) in enumerate(rows)
    ]
    points = [(0, 0)] + [(x, y) for x, y, *_ in rows]
    p = problem(stops, points, [Vehicle(f"t{i}", 10, shift_end=600) for i in range(trucks)])
    solution = solve(p, seconds=0.02)
    violations = check(p, solution)
    assert solution.feasible == (not solution.meta["violations"])
    if solution.feasible:
        assert violations == []
    else:
        assert solution.meta["violations"]
