"""Who calls for service: a machine is due when a column is forecast to reach its threshold before the next
planning opportunity, at the service-level quantile of demand (so a busy-but-uncertain column calls early).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tradeoff.vending.planning.model import ColumnState, MachineState, Reason

LIMIT_DAYS = 21  # look no further: a machine not due within three weeks is not a candidate either


def demand_between(column: ColumnState, start: datetime, end: datetime, q: float | None = None) -> float:
    """Vends expected (``q`` None) or at quantile ``q`` between ``start`` and ``end``.

    The forecast counts from its own origin; the quantile of a difference is approximated by the difference of
    quantiles, which is exact when ``start`` is the origin (the usual case: the forecast is fitted at planning time).
    """
    if end <= start:
        return 0.0
    forecast = column.forecast
    if q is None:
        return max(0.0, forecast.demand_until(end) - forecast.demand_until(start))
    return max(0.0, forecast.demand_quantile_until(end, q) - forecast.demand_quantile_until(start, q))


def on_hand_at(column: ColumnState, *, now: datetime, at: datetime, q: float | None = None) -> float:
    """Forecast units left at ``at`` (never below zero)."""
    return max(0.0, column.on_hand - demand_between(column, now, at, q))


def crossing(
    column: ColumnState, *, now: datetime, level: float, q: float | None, limit_days: int = LIMIT_DAYS
) -> datetime | None:
    """First time the column's stock reaches ``level`` (to about a minute); None if not within ``limit_days``."""
    if column.on_hand <= level:
        return now
    lo = now
    for day in range(1, limit_days + 1):  # whole days first, then bisection inside the crossing day
        hi = now + timedelta(days=day)
        if column.on_hand - demand_between(column, now, hi, q) <= level:
            break
        lo = hi
    else:
        return None
    while hi - lo > timedelta(minutes=2):
        mid = lo + (hi - lo) / 2
        if column.on_hand - demand_between(column, now, mid, q) > level:
            lo = mid
        else:
            hi = mid
    return hi


@dataclass(frozen=True)
class Urgency:
    machine_id: str
    due: datetime | None  # earliest threshold crossing over the columns, at the service-level quantile
    stockout: datetime | None  # earliest column running empty, at the same quantile
    called: bool  # the machine itself asked for service
    required: bool  # must be served in this plan

    @property
    def reason(self) -> Reason:
        return "called" if self.called else "due"


def urgency(machine: MachineState, *, now: datetime, next_opportunity: datetime, q: float) -> Urgency:
    """How soon ``machine`` needs a visit and whether this plan must make it."""
    dues = [t for c in machine.columns if (t := crossing(c, now=now, level=c.threshold, q=q)) is not None]
    due = min(dues, default=None)
    outs = [] if due is None else [t for c in machine.columns if (t := crossing(c, now=now, level=0.0, q=q))]
    called = machine.called_at is not None
    return Urgency(
        machine_id=machine.machine_id,
        due=due,
        stockout=min(outs, default=None),
        called=called,
        required=called or (due is not None and due < next_opportunity),
    )
