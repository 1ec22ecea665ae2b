"""What to bring: par minus the forecast on-hand at the planned arrival, in the operator's pick increments.

Rounding goes to the nearest increment (unit, half case, case) but never past the column's capacity at arrival;
a column at or below its threshold at arrival always gets something, a partial case if that is all that fits.
"""

from __future__ import annotations

import math
from datetime import datetime

from tradeoff.vending.planning.model import CasePolicy, ColumnState, MachineState, Pick
from tradeoff.vending.planning.urgency import on_hand_at


def increment(policy: CasePolicy, case_size: int) -> int:
    """Units per pick step under ``policy``."""
    if policy == "case":
        return max(1, case_size)
    if policy == "half_case":
        return max(1, case_size // 2)
    return 1


def round_quantity(raw: float, *, headroom: float, step: int, below_threshold: bool) -> int:
    """``raw`` rounded half-up to a multiple of ``step``, capped at ``headroom``."""
    room = math.floor(headroom + 1e-9)
    if room <= 0:
        return 0
    wanted = step * math.floor(max(0.0, raw) / step + 0.5)
    quantity = min(wanted, step * (room // step))
    if quantity == 0 and below_threshold:
        quantity = min(step, room)  # a partial increment beats leaving a low column empty-handed
    return quantity


def column_pick(column: ColumnState, *, now: datetime, eta: datetime, policy: CasePolicy) -> int:
    """Units to put in ``column`` when the driver arrives at ``eta``."""
    expected = on_hand_at(column, now=now, at=eta)
    return round_quantity(
        column.par - expected,
        headroom=column.capacity - expected,
        step=increment(policy, column.case_size),
        below_threshold=expected <= column.threshold,
    )


def machine_picks(machine: MachineState, *, now: datetime, eta: datetime, policy: CasePolicy) -> tuple[Pick, ...]:
    """The pick list for one visit (columns that need nothing are left out)."""
    picks = []
    for column in machine.columns:
        quantity = column_pick(column, now=now, eta=eta, policy=policy)
        if quantity > 0:
            picks.append(Pick(selection=column.selection, product=column.product, quantity=quantity))
    return tuple(picks)


def units(picks: tuple[Pick, ...]) -> int:
    return sum(p.quantity for p in picks)
