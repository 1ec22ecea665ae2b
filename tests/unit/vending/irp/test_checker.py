from __future__ import annotations

import pytest

from tradeoff.vending.irp import Instance, Solution, check_solution
from tradeoff.vending.irp.checker import travel_cost


def good(tiny: Instance) -> Solution:
    # retailer 1: 10 → +30 (40 ≤ U 40) → 30 → 20 ; retailer 2: 20 → 0 → +30 (30 ≤ U 30) → 10
    return Solution.build([[1], [2, 1]], [{1: 30.0}, {2: 30.0}])


def test_feasible_solution_and_its_cost(tiny: Instance) -> None:
    report = check_solution(tiny, good(tiny))
    assert report.feasible, report.violations
    # routing: t1 0-1-0 = 10; t2 0-2-1-0 = 10 + 5 + 5 = 20
    assert report.routing_cost == 30
    # supplier B: 50, 50+30-30=50, 50+30-30=50 → 0.1 × 150 = 15
    # retailer 1: 10, 30, 20 → 0.5 × 60 = 30 ; retailer 2: 20, 0, 10 → 1 × 30 = 30
    assert report.holding_cost == pytest.approx(75)
    assert report.cost == pytest.approx(105)
    assert report.supplier_levels == (50, 50, 50)


def test_rounding_conventions() -> None:
    from tradeoff.vending.irp import parse_instance

    inst = parse_instance("2 1 10\n1 0 0 0 0 0\n2 1 1.5 0 1 0 0 0\n")
    assert travel_cost(inst, 0, 1, "nint") == 2
    assert travel_cost(inst, 0, 1, "floor") == 1
    assert travel_cost(inst, 0, 1, "none") == pytest.approx(1.8028, abs=1e-4)


@pytest.mark.parametrize(
    ("routes", "deliveries", "kind"),
    [
        ([[1], [2]], [{1: 30.0}, {2: 31.0}], "max_level"),  # 0 + 31 > U = 30
        ([[1], [2]], [{1: 31.0}, {2: 30.0}], "max_level"),  # 10 + 31 > 40
        ([[1], []], [{1: 30.0}, {}], "stockout"),  # retailer 2 runs out in period 2
        ([[1], [2, 1]], [{1: 4.0}, {1: 5.0, 2: 30.0}], "stockout"),  # retailer 1: 10+4-10 = 4, 4+5-10 = -1
        ([[1, 1], [2]], [{1: 30.0}, {2: 30.0}], "repeat_visit"),
        ([[], [2]], [{1: 30.0}, {2: 30.0}], "unvisited_delivery"),
        ([[1, 7], [2]], [{1: 30.0}, {2: 30.0}], "unknown_node"),
        ([[1], [2]], [{1: 30.0, 2: -1.0}, {2: 30.0}], "negative_quantity"),
        ([[1]], [{1: 30.0}], "horizon"),
    ],
)
def test_each_violation_is_reported(
    tiny: Instance, routes: list[list[int]], deliveries: list[dict[int, float]], kind: str
) -> None:
    report = check_solution(tiny, Solution.build(routes, deliveries))
    assert not report.feasible
    assert kind in report.kinds()


def test_capacity_violation(tiny: Instance) -> None:
    small = Instance(tiny.name, tiny.horizon, 50, tiny.supplier, tiny.retailers)
    report = check_solution(small, Solution.build([[1, 2], [2, 1]], [{1: 30.0, 2: 30.0}, {1: 0.0, 2: 0.0}]))
    assert "capacity" in report.kinds()
    assert all(v.period == 1 for v in report.violations if v.kind == "capacity")


def test_supplier_cannot_ship_more_than_it_holds(tiny: Instance) -> None:
    poor = Instance(tiny.name, tiny.horizon, tiny.capacity, type(tiny.supplier)(1, 0, 0, 20, 30, 0.1), tiny.retailers)
    report = check_solution(poor, good(tiny))  # ships 30 in period 1 with B_1 = 20
    assert report.kinds() == {"supplier_stock"}
    assert report.violations[0].period == 1


def test_minimum_level_is_respected(tiny: Instance) -> None:
    strict = Instance(
        tiny.name,
        tiny.horizon,
        tiny.capacity,
        tiny.supplier,
        (tiny.retailers[0], type(tiny.retailers[1])(3, 6, 8, 20, 30, 5, 20, 1)),
    )
    report = check_solution(strict, good(tiny))  # retailer 2 drops to 0 < L = 5 after period 1
    assert report.kinds() == {"stockout"}


def test_visit_without_delivery_is_allowed_but_paid(tiny: Instance) -> None:
    base = check_solution(tiny, good(tiny))
    detour = check_solution(tiny, Solution.build([[1, 2], [2, 1]], [{1: 30.0}, {2: 30.0}]))
    assert detour.feasible
    assert detour.routing_cost == base.routing_cost + 10
