from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.unit.vending.planning.fixtures import NOW, SHIFT, column, machine, request, truck
from tradeoff.vending.planning import planner
from tradeoff.vending.planning.model import MachineState, OpeningWindow, Plan
from tradeoff.vending.planning.picks import column_pick
from tradeoff.vending.routing.checker import check
from tradeoff.vending.routing.problem import RoutingProblem, RoutingSolution

SECONDS = 0.1


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[RoutingSolution]]:
    """Every routing answer the planner gets passes the routing engineer's independent checker."""
    seen: list[RoutingSolution] = []
    real = planner.solve

    def solve(problem: RoutingProblem, *, seconds: float, seed: int = 0) -> RoutingSolution:
        solution = real(problem, seconds=seconds, seed=seed)
        if solution.feasible:
            assert check(problem, solution) == []
        seen.append(solution)
        return solution

    monkeypatch.setattr(planner, "solve", solve)
    yield seen


def due(machine_id: str, east_m: float, north_m: float = 0.0, **kwargs: object) -> MachineState:
    return machine(machine_id, east_m=east_m, north_m=north_m, columns=(column(on_hand=12, rate=8),), **kwargs)  # type: ignore[arg-type]


def stops(plan: Plan) -> dict[str, object]:
    return {stop.machine_id: stop for t in plan.trucks for stop in t.stops}


def test_capacities_windows_and_shifts_are_respected(checked: list[RoutingSolution]) -> None:
    lunch = (OpeningWindow(NOW.replace(hour=12), NOW.replace(hour=14)),)
    machines = [due(f"m{i}", east_m=1000 * (i + 1), north_m=500 * (i % 3)) for i in range(8)]
    machines.append(due("lunch", east_m=2000, north_m=2000, windows=lunch))
    result = planner.plan(
        request(machines, trucks=[truck("T1", capacity=120), truck("T2", capacity=120)]), seconds=SECONDS
    )
    assert checked and checked[-1].feasible  # an infeasible first attempt is retried with deadlines relaxed
    for plan_truck in result.trucks:
        assert sum(plan_truck.load.values()) <= 120
        assert SHIFT[0] <= plan_truck.departs and plan_truck.returns <= SHIFT[1]
        for stop in plan_truck.stops:
            assert SHIFT[0] <= stop.eta < stop.departs <= SHIFT[1]
    lunch_stop = stops(result).get("lunch")
    if lunch_stop is not None:
        assert NOW.replace(hour=12) <= lunch_stop.eta and lunch_stop.departs <= NOW.replace(hour=14)  # type: ignore[attr-defined]
    served = set(stops(result))
    assert served | set(result.deferred) >= {m.machine_id for m in machines}


def test_picks_are_par_minus_forecast_on_hand_at_the_eta() -> None:
    machines = [
        machine("a", east_m=4000, columns=(column("10", on_hand=12, rate=8), column("11", on_hand=30, rate=20))),
        machine("b", east_m=9000, columns=(column("10", on_hand=10, rate=16, case_size=12),)),
    ]
    for policy in ("unit", "half_case", "case"):
        result = planner.plan(request(machines, policy=policy), seconds=SECONDS)
        by_id = {m.machine_id: m for m in machines}
        for stop in stops(result).values():
            columns = {c.selection: c for c in by_id[stop.machine_id].columns}  # type: ignore[attr-defined]
            for pick in stop.picks:  # type: ignore[attr-defined]
                expected = column_pick(columns[pick.selection], now=NOW, eta=stop.eta, policy=policy)  # type: ignore[attr-defined]
                assert pick.quantity == expected


def test_a_due_machine_is_planned_or_deferred_with_a_reason() -> None:
    far = [(40_000, 0), (-40_000, 0), (0, 40_000), (0, -40_000), (28_000, 28_000), (-28_000, -28_000)]
    machines = [due(f"m{i}", east_m=east, north_m=north) for i, (east, north) in enumerate(far)]  # 3.5 h round trips
    machines.append(due("closed", east_m=1000, windows=()))
    result = planner.plan(request(machines), seconds=SECONDS)
    served = set(stops(result))
    reasons = result.meta["deferred_reasons"]
    assert isinstance(reasons, dict)
    assert served | set(result.deferred) == {m.machine_id for m in machines}
    assert not served & set(result.deferred)
    assert reasons["closed"] == "closed during every shift"
    assert len(result.deferred) >= 2 and all(reasons[m] for m in result.deferred)


def test_no_trucks_defers_every_due_machine() -> None:
    result = planner.plan(request([due("a", east_m=1000)], trucks=[]), seconds=SECONDS)
    assert result.deferred == ("a",) and result.trucks == ()


def test_a_nearby_almost_due_machine_joins_but_a_far_full_one_does_not() -> None:
    machines = [
        due("due", east_m=6000),
        machine("near", east_m=6400, north_m=300, columns=(column(on_hand=15, rate=3),)),  # ~2 days from due
        machine("far", east_m=-14000, columns=(column(on_hand=38, rate=3),)),  # plenty of stock
        machine("full", east_m=6300, columns=(column(on_hand=40, rate=1),)),  # next door, but nothing to do
    ]
    visited = stops(planner.plan(request(machines), seconds=SECONDS))
    assert visited["due"].reason == "due"  # type: ignore[attr-defined]
    assert visited["near"].reason == "joined"  # type: ignore[attr-defined]
    assert "far" not in visited and "full" not in visited


def test_the_same_seed_gives_the_same_plan() -> None:
    machines = [due(f"m{i}", east_m=1500 * (i - 4), north_m=900 * (i % 4)) for i in range(9)]
    machines += [
        machine(f"j{i}", east_m=700 * i, north_m=-800, columns=(column(on_hand=17, rate=3),)) for i in range(4)
    ]
    req = request(machines, trucks=[truck("T1", capacity=200), truck("T2", capacity=200)])
    first, second = planner.plan(req, seconds=SECONDS, seed=3), planner.plan(req, seconds=SECONDS, seed=3)
    assert first.trucks == second.trucks and first.deferred == second.deferred


def test_a_machine_that_needs_more_than_a_truck_gets_a_truckload() -> None:
    big = machine("big", east_m=3000, columns=tuple(column(str(10 + i), on_hand=4, rate=8) for i in range(5)))
    result = planner.plan(request([big], trucks=[truck(capacity=100)]), seconds=SECONDS)
    (stop,) = stops(result).values()
    assert sum(p.quantity for p in stop.picks) == 100  # type: ignore[attr-defined]
    assert all(p.quantity >= 1 for p in stop.picks)  # type: ignore[attr-defined]


def test_plan_times_are_after_now() -> None:
    result = planner.plan(request([due("a", east_m=1000)]), seconds=SECONDS)
    assert all(stop.eta >= NOW + timedelta(hours=1) for t in result.trucks for stop in t.stops)


def test_a_shift_already_under_way_starts_now_and_a_finished_one_is_ignored() -> None:
    late = NOW.replace(hour=13)
    req = replace(request([due("a", east_m=1000)], trucks=[truck("T1"), truck("gone")]), now=late)
    req = replace(req, trucks=[truck("T1"), replace(truck("gone"), shift_end=NOW.replace(hour=12))])
    result = planner.plan(req, seconds=SECONDS)
    assert [t.truck_id for t in result.trucks] == ["T1"]
    assert result.trucks[0].departs >= late and result.trucks[0].stops[0].eta >= late


def test_without_the_horizon_schedule_prizes_alone_decide_who_joins() -> None:
    machines = [
        due("due", east_m=6000),
        machine("near", east_m=6400, north_m=300, columns=(column(on_hand=15, rate=3),)),
        machine("far", east_m=-14000, columns=(column(on_hand=30, rate=3),)),
    ]
    myopic = planner.Tuning(zones=None)
    visited = stops(planner.plan(request(machines), seconds=SECONDS, tuning=myopic))
    assert visited["near"].reason == "joined" and "far" not in visited  # type: ignore[attr-defined]
    alone = stops(planner.plan(request(machines), seconds=SECONDS, tuning=planner.Tuning(allow_join=False)))
    assert set(alone) == {"due"}
