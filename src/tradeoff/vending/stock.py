"""Stock arithmetic, pure: DEX meter differencing, on-hand per column, sold-out, money reconciliation.

DEX carries sales meters, not stock. A column's on-hand is the last known level (a driver's fill or a
slot sensor's count) minus the units that left it since. Units sold between two audits come from the
PA201 meter (vends since initialisation, never reset by reads); when PA201 goes backwards the board was
re-initialised or swapped, so we fall back to PA203 (since the last reset) and flag the column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal

Method = Literal["pa201", "pa203", "reinit", "baseline", "none"]

COUNTER_FIELDS = ("vends_total", "value_total", "vends_since_reset", "value_since_reset", "test_vends", "free_vends")


def opt_int(value: Any) -> int | None:
    """An integer counter from JSON (ints, integral floats, digit strings); None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


@dataclass(frozen=True)
class Counters:
    """One column's cumulative meters as one audit read them (None: the audit did not carry it)."""

    vends_total: int | None = None  # PA201
    value_total: int | None = None  # PA202, minor units
    vends_since_reset: int | None = None  # PA203
    value_since_reset: int | None = None  # PA204
    test_vends: int | None = None  # PA3
    free_vends: int | None = None  # PA4

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Counters:
        return cls(**{name: opt_int(data.get(name)) for name in COUNTER_FIELDS})

    def to_json(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in COUNTER_FIELDS}


@dataclass(frozen=True)
class ColumnDelta:
    """What one column sold between two audits."""

    paid_vends: int
    units_out: int  # paid + test + free vends: what physically left the column
    value: int | None  # paid value (PA202 difference), None when it cannot be derived
    method: Method
    flags: tuple[str, ...] = ()


def _meter_delta(previous: int | None, current: int | None) -> int:
    """A secondary meter (test, free vends): a drop means it was reset, so the current count is the delta."""
    if previous is None or current is None:
        return 0
    return current - previous if current >= previous else current


def column_delta(previous: Counters | None, current: Counters) -> ColumnDelta:
    """Units and value sold since ``previous`` (None: the column is new, so this audit is its baseline)."""
    if previous is None:
        return ColumnDelta(0, 0, 0, "baseline", ("new_column",))
    extra = _meter_delta(previous.test_vends, current.test_vends) + _meter_delta(
        previous.free_vends, current.free_vends
    )
    paid: int
    value: int | None
    method: Method
    flags: tuple[str, ...] = ()
    pa201_prev, pa201_cur = previous.vends_total, current.vends_total
    pa203_prev, pa203_cur = previous.vends_since_reset, current.vends_since_reset
    if pa201_prev is not None and pa201_cur is not None:
        if pa201_cur >= pa201_prev:
            paid, method = pa201_cur - pa201_prev, "pa201"
            value = _difference(previous.value_total, current.value_total)
        else:  # re-initialised or swapped board: its counters restarted
            paid = pa201_cur if pa203_cur is None else min(pa203_cur, pa201_cur)
            value = current.value_since_reset if current.value_since_reset is not None else current.value_total
            method, flags = "reinit", ("counter_reset",)
    elif pa203_prev is not None and pa203_cur is not None:
        if pa203_cur >= pa203_prev:
            paid, method, flags = pa203_cur - pa203_prev, "pa203", ("no_pa201",)
            value = _difference(previous.value_since_reset, current.value_since_reset)
        else:
            paid, method, flags = pa203_cur, "reinit", ("no_pa201", "counter_reset")
            value = current.value_since_reset
    elif pa201_cur is not None or pa203_cur is not None:
        return ColumnDelta(0, 0, None, "baseline", ("no_previous_counter",))
    else:
        return ColumnDelta(0, extra, None, "none", ("no_counters",))
    return ColumnDelta(paid, paid + extra, value, method, flags)


def _difference(previous: int | None, current: int | None) -> int | None:
    if previous is None or current is None or current < previous:
        return None
    return current - previous


# -- money reconciliation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """The machine's VA1 totals (paid vends and value since initialisation)."""

    vends: int | None
    value: int | None


@dataclass(frozen=True)
class Reconciliation:
    status: Literal["ok", "mismatch", "skipped"]
    columns_value: int | None
    totals_value: int | None
    reason: str


def reconcile(
    deltas: Mapping[str, ColumnDelta],
    previous: Totals | None,
    current: Totals,
    *,
    tolerance_ratio: float = 0.02,
    tolerance_minor: int = 0,
) -> Reconciliation:
    """Sum of the columns' PA202 deltas against the VA1 value delta; mismatch beyond the tolerance is flagged."""
    columns_value = None
    if deltas and all(d.value is not None and d.method == "pa201" for d in deltas.values()):
        columns_value = sum(d.value or 0 for d in deltas.values())
    if previous is None or previous.value is None or current.value is None:
        return Reconciliation("skipped", columns_value, None, "no previous VA1 totals")
    if current.value < previous.value:
        return Reconciliation("skipped", columns_value, None, "VA1 totals went backwards (board re-initialised)")
    totals_value = current.value - previous.value
    if columns_value is None:
        return Reconciliation("skipped", None, totals_value, "column values not derivable from PA202")
    allowed = max(tolerance_minor, math.floor(tolerance_ratio * max(abs(totals_value), abs(columns_value))))
    if abs(columns_value - totals_value) > allowed:
        reason = f"columns sold {columns_value} but VA1 says {totals_value} (allowed difference {allowed})"
        return Reconciliation("mismatch", columns_value, totals_value, reason)
    return Reconciliation("ok", columns_value, totals_value, "")


# -- on-hand and sold-out -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnStock:
    """A column's last known level and what left it since."""

    level: int | None = None
    level_at: datetime | None = None
    vends_since_level: int = 0
    sensor_units: int | None = None
    sensor_at: datetime | None = None

    @property
    def on_hand(self) -> int | None:
        """Units left, never below zero; None until a fill or a sensor gave a level."""
        if self.level is None:
            return None
        return max(0, self.level - self.vends_since_level)

    @property
    def sold_out(self) -> bool:
        sensor_says_empty = (
            self.sensor_units == 0
            and self.sensor_at is not None
            and (self.level_at is None or self.sensor_at >= self.level_at)
        )
        return sensor_says_empty or (self.on_hand is not None and self.on_hand <= 0)


def units_after(units: int, start: datetime | None, end: datetime, after: datetime | None) -> int:
    """Of ``units`` sold evenly over (start, end], how many fell after ``after`` (a fill or a count)."""
    if after is None or start is None or after <= start:
        return units
    if after >= end:
        return 0
    return round(units * ((end - after) / (end - start)))


def apply_sales(stock: ColumnStock, units: int, start: datetime | None, end: datetime) -> ColumnStock:
    """The stock after an audit reported ``units`` out over (start, end]; a level set inside the window
    only loses the share sold after it."""
    counted = units_after(units, start, end, stock.level_at)
    return ColumnStock(
        level=stock.level,
        level_at=stock.level_at,
        vends_since_level=stock.vends_since_level + counted,
        sensor_units=stock.sensor_units,
        sensor_at=stock.sensor_at,
    )


@dataclass(frozen=True)
class FillResult:
    units_added: int
    level_after: int


def fill(
    on_hand: int | None,
    *,
    capacity: int,
    par: int,
    units: int | None = None,
    to_par: bool = False,
    level: int | None = None,
) -> FillResult:
    """A driver's fill as exactly one of: ``units`` added, filled ``to_par``, or a counted ``level``."""
    given = sum(1 for x in (units is not None, to_par, level is not None) if x)
    if given != 1:
        raise ValueError("give exactly one of units, to_par or level")
    before = on_hand or 0
    if to_par:
        after = max(par, before)
    elif level is not None:
        if not 0 <= level <= capacity:
            raise ValueError(f"level must be between 0 and the column capacity {capacity}")
        after = level
    else:
        assert units is not None
        if units <= 0:
            raise ValueError("units must be positive")
        after = min(capacity, before + units)
        return FillResult(units, after)
    return FillResult(max(0, after - before), after)


def threshold_units(par: int, threshold_pct: float) -> int:
    """Service is due when on-hand falls to this: the threshold percent of par, rounded down."""
    return math.floor(par * threshold_pct / 100 + 1e-9)


# -- daily history --------------------------------------------------------------------------------------


def split_by_day(units: int, start: datetime | None, end: datetime, tz: tzinfo) -> dict[date, int]:
    """Spread ``units`` evenly over (start, end] into local days (largest remainder, so they add up)."""
    if units == 0:
        return {}
    if start is None or start >= end:
        return {end.astimezone(tz).date(): units}
    span = (end - start).total_seconds()
    shares: dict[date, float] = {}
    cursor = start
    while cursor < end:
        local = cursor.astimezone(tz)
        next_midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        stop = min(end, next_midnight)
        if stop <= cursor:  # guard against zone transitions that do not advance
            stop = min(end, cursor + timedelta(hours=1))
        day = local.date()
        shares[day] = shares.get(day, 0.0) + units * (stop - cursor).total_seconds() / span
        cursor = stop
    floors = {day: math.floor(share) for day, share in shares.items()}
    left = units - sum(floors.values())
    for day in sorted(shares, key=lambda d: (shares[d] - floors[d], d), reverse=True)[:left]:
        floors[day] += 1
    return {day: n for day, n in floors.items() if n}
