"""When the truck cannot carry every pick: an exact small MIP (HiGHS) decides who gets how much.

The picks wanted by the stops that share a truck (or a fleet) may exceed its capacity. Rather than dropping a
stop, every column is cut back so that the *first* column to run empty afterwards runs empty as late as
possible (max-min days of cover), then the truck is filled as far as possible. Quantities stay multiples of
the column's pick step, and a column at or below its threshold keeps at least one step when that fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tradeoff.vending.irp.highs import quiet_highs

MAX_COVER_DAYS = 60.0


@dataclass(frozen=True)
class TrimItem:
    wanted: int  # units the pick rule asked for
    step: int  # pick increment (units)
    on_hand: float  # forecast units in the column at arrival
    rate: float  # forecast vends per day
    low: bool  # at or below its threshold at arrival


def trim_to_capacity(items: Sequence[TrimItem], capacity: int) -> list[int]:
    """Quantities (same order as ``items``) whose sum is at most ``capacity``, each at most ``wanted``."""
    if sum(item.wanted for item in items) <= capacity:
        return [item.wanted for item in items]
    steps = [item.step if item.wanted % item.step == 0 else 1 for item in items]
    floors = [1 if item.low and item.wanted > 0 else 0 for item in items]
    if sum(f * s for f, s in zip(floors, steps, strict=True)) > capacity:
        floors = [0] * len(items)
    solver = quiet_highs()
    counts = [
        solver.addIntegral(lb=float(low), ub=float(item.wanted // step))
        for item, step, low in zip(items, steps, floors, strict=True)
    ]
    cover = solver.addVariable(lb=0.0, ub=MAX_COVER_DAYS)
    solver.addConstr(sum(step * count for step, count in zip(steps, counts, strict=True)) <= capacity)
    for item, step, count in zip(items, steps, counts, strict=True):
        if item.wanted > 0 and item.rate > 0:
            solver.addConstr(cover * item.rate - step * count <= item.on_hand)
    filled = sum(step * count for step, count in zip(steps, counts, strict=True))
    solver.maximize(cover * 1000.0 + filled * (1.0 / (capacity + 1)))  # cover first, then fill the truck
    values = [solver.val(count) for count in counts]
    return [int(round(value)) * step for value, step in zip(values, steps, strict=True)]
