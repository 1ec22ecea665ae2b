"""Stock arithmetic: PA201 differencing, resets, fills between audits, sold-out and money checks."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeoff.vending.stock import (
    ColumnDelta,
    ColumnStock,
    Counters,
    Totals,
    apply_sales,
    column_delta,
    fill,
    reconcile,
    split_by_day,
    threshold_units,
    units_after,
)

T0 = datetime(2026, 11, 1, 8, tzinfo=UTC)


def c(pa201: int | None, pa202: int | None = None, pa203: int | None = None, **extra: int | None) -> Counters:
    return Counters(vends_total=pa201, value_total=pa202, vends_since_reset=pa203, **extra)


def test_normal_differencing_uses_pa201() -> None:
    delta = column_delta(c(100, 10_000, 5), c(112, 11_200, 17))
    assert (delta.paid_vends, delta.units_out, delta.value, delta.method) == (12, 12, 1_200, "pa201")
    assert delta.flags == ()


def test_pa203_resetting_at_each_read_does_not_matter_when_pa201_is_there() -> None:
    delta = column_delta(c(100, 10_000, 40), c(107, 10_700, 7))
    assert delta.paid_vends == 7 and delta.method == "pa201"


def test_a_missing_audit_in_between_is_covered_by_the_cumulative_meter() -> None:
    first, lost, third = c(100, 10_000), c(130, 13_000), c(150, 15_000)
    assert column_delta(first, lost).paid_vends + column_delta(lost, third).paid_vends == 50
    assert column_delta(first, third).paid_vends == 50


def test_pa201_going_backwards_falls_back_to_pa203_and_flags() -> None:
    delta = column_delta(c(500, 50_000, 20), c(6, 600, 6))
    assert (delta.paid_vends, delta.method, delta.value) == (6, "reinit", 600)
    assert "counter_reset" in delta.flags


def test_reinit_without_pa203_counts_the_restarted_pa201() -> None:
    delta = column_delta(c(500), c(4))
    assert delta.paid_vends == 4 and delta.method == "reinit" and "counter_reset" in delta.flags


def test_no_pa201_uses_pa203_and_says_so() -> None:
    delta = column_delta(c(None, None, 10), c(None, None, 14))
    assert (delta.paid_vends, delta.method) == (4, "pa203") and "no_pa201" in delta.flags


def test_a_new_column_is_a_baseline() -> None:
    delta = column_delta(None, c(900, 90_000))
    assert (delta.paid_vends, delta.method) == (0, "baseline") and "new_column" in delta.flags


def test_no_counters_at_all_counts_nothing() -> None:
    delta = column_delta(c(None), c(None))
    assert delta.paid_vends == 0 and delta.method == "none" and "no_counters" in delta.flags


def test_test_and_free_vends_leave_the_column_but_are_not_paid() -> None:
    delta = column_delta(c(10, test_vends=1, free_vends=0), c(15, test_vends=3, free_vends=1))
    assert (delta.paid_vends, delta.units_out) == (5, 8)


def test_on_hand_is_last_fill_minus_sales_since() -> None:
    stock = ColumnStock(level=10, level_at=T0)
    stock = apply_sales(stock, 3, T0, T0 + timedelta(hours=5))
    stock = apply_sales(stock, 4, T0 + timedelta(hours=5), T0 + timedelta(hours=9))
    assert stock.on_hand == 3 and not stock.sold_out


def test_a_fill_between_audits_only_loses_the_sales_after_it() -> None:
    start, end = T0, T0 + timedelta(hours=10)
    filled = ColumnStock(level=20, level_at=T0 + timedelta(hours=6))  # filled 6 h into a 10 h window
    after = apply_sales(filled, 10, start, end)
    assert after.vends_since_level == 4 and after.on_hand == 16
    assert units_after(10, start, end, end + timedelta(hours=1)) == 0  # filled after the audit: none
    assert units_after(10, start, end, start - timedelta(hours=1)) == 10  # filled before the window: all


def test_sold_out_when_on_hand_reaches_zero() -> None:
    stock = apply_sales(ColumnStock(level=5, level_at=T0), 7, T0, T0 + timedelta(hours=1))
    assert stock.on_hand == 0 and stock.sold_out


def test_sold_out_when_a_slot_sensor_says_zero() -> None:
    assert ColumnStock(level=8, level_at=T0, sensor_units=0, sensor_at=T0 + timedelta(minutes=1)).sold_out
    # a fill after the sensor's 0 wins
    assert not ColumnStock(level=8, level_at=T0, sensor_units=0, sensor_at=T0 - timedelta(minutes=1)).sold_out


def test_unknown_level_is_not_sold_out() -> None:
    stock = ColumnStock()
    assert stock.on_hand is None and not stock.sold_out


def test_reconciliation_ok_and_mismatch() -> None:
    deltas = {"1": ColumnDelta(3, 3, 300, "pa201"), "2": ColumnDelta(2, 2, 400, "pa201")}
    ok = reconcile(deltas, Totals(10, 1_000), Totals(15, 1_700))
    assert (ok.status, ok.columns_value, ok.totals_value) == ("ok", 700, 700)
    bad = reconcile(deltas, Totals(10, 1_000), Totals(15, 2_000))
    assert bad.status == "mismatch" and "700" in bad.reason and "1000" in bad.reason


def test_reconciliation_is_skipped_when_it_cannot_be_done() -> None:
    deltas = {"1": ColumnDelta(3, 3, 300, "pa201")}
    assert reconcile(deltas, None, Totals(1, 300)).status == "skipped"
    assert reconcile(deltas, Totals(10, 1_000), Totals(1, 300)).status == "skipped"  # VA1 reset
    reset = {"1": ColumnDelta(3, 3, 300, "reinit", ("counter_reset",))}
    assert reconcile(reset, Totals(10, 1_000), Totals(13, 1_300)).status == "skipped"


def test_small_differences_are_within_tolerance() -> None:
    deltas = {"1": ColumnDelta(100, 100, 10_000, "pa201")}
    assert reconcile(deltas, Totals(0, 0), Totals(100, 10_150)).status == "ok"
    assert reconcile(deltas, Totals(0, 0), Totals(100, 10_150), tolerance_ratio=0.0).status == "mismatch"


def test_fills() -> None:
    assert fill(3, capacity=12, par=10, to_par=True) == fill(3, capacity=12, par=10, level=10)
    assert fill(3, capacity=12, par=10, to_par=True).units_added == 7
    assert fill(3, capacity=12, par=10, units=20).level_after == 12  # cannot exceed capacity
    assert fill(None, capacity=12, par=10, units=5).level_after == 5
    with pytest.raises(ValueError, match="exactly one"):
        fill(3, capacity=12, par=10, units=2, to_par=True)
    with pytest.raises(ValueError, match="capacity"):
        fill(3, capacity=12, par=10, level=13)


def test_threshold_units() -> None:
    assert threshold_units(10, 30) == 3
    assert threshold_units(9, 30) == 2
    assert threshold_units(10, 0) == 0


def test_split_by_day_spreads_evenly_in_local_days() -> None:
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 11, 1, 11, tzinfo=UTC)  # 12:00 local
    end = datetime(2026, 11, 3, 11, tzinfo=UTC)  # 12:00 local two days later
    assert split_by_day(48, start, end, zone) == {date(2026, 11, 1): 12, date(2026, 11, 2): 24, date(2026, 11, 3): 12}
    assert split_by_day(5, None, end, zone) == {date(2026, 11, 3): 5}


@given(
    units=st.integers(0, 10_000),
    hours=st.floats(0.01, 24 * 40),
    offset=st.floats(0, 24),
)
def test_split_by_day_always_adds_up(units: int, hours: float, offset: float) -> None:
    start = T0 + timedelta(hours=offset)
    parts = split_by_day(units, start, start + timedelta(hours=hours), ZoneInfo("America/New_York"))
    assert sum(parts.values()) == units and all(n > 0 for n in parts.values())
