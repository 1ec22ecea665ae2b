from datetime import timedelta

import pytest

from tests.unit.vending.planning.fixtures import NOW, column, machine
from tradeoff.vending.planning.urgency import crossing, demand_between, on_hand_at, urgency


def test_expected_crossing_of_a_constant_rate_column() -> None:
    col = column(on_hand=20, rate=8, threshold=8)  # 12 units above threshold at 8 a day: 1.5 days
    when = crossing(col, now=NOW, level=8, q=None)
    assert when is not None
    assert abs((when - NOW) - timedelta(days=1.5)) < timedelta(minutes=3)


def test_a_higher_service_level_calls_earlier() -> None:
    col = column(on_hand=20, rate=8, threshold=8)
    median, cautious = crossing(col, now=NOW, level=8, q=0.5), crossing(col, now=NOW, level=8, q=0.95)
    assert median is not None and cautious is not None and cautious < median


def test_a_column_already_at_threshold_is_due_now_and_a_slow_one_never() -> None:
    assert crossing(column(on_hand=8, rate=8), now=NOW, level=8, q=0.9) == NOW
    assert crossing(column(on_hand=40, rate=0.1), now=NOW, level=8, q=0.9) is None


def test_on_hand_at_subtracts_expected_demand_and_stops_at_zero() -> None:
    col = column(on_hand=20, rate=24)
    assert on_hand_at(col, now=NOW, at=NOW + timedelta(hours=6)) == pytest.approx(14)
    assert on_hand_at(col, now=NOW, at=NOW + timedelta(days=3)) == 0
    assert demand_between(col, NOW + timedelta(hours=1), NOW) == 0


def test_required_when_due_before_the_next_opportunity_or_called() -> None:
    soon = NOW + timedelta(days=1)
    due = machine("a", east_m=0, columns=(column(on_hand=12, rate=8),))
    fine = machine("b", east_m=0, columns=(column(on_hand=40, rate=2),))
    called = machine("c", east_m=0, columns=(column(on_hand=40, rate=2),), called=True)
    assert urgency(due, now=NOW, next_opportunity=soon, q=0.9).required
    assert urgency(due, now=NOW, next_opportunity=soon, q=0.9).reason == "due"
    assert not urgency(fine, now=NOW, next_opportunity=soon, q=0.9).required
    state = urgency(called, now=NOW, next_opportunity=soon, q=0.9)
    assert state.required and state.reason == "called"
