"""Which machines that are not yet due should join today's trips: a prize per optional stop for the router.

The prize is the value of serving the machine now rather than later, in metres (the router's unit):

    prize = max(need × local, soon × trip_share × trip) − (1 − need) × service_minutes × minute_cost_m

* ``need`` ∈ [0, 1]: the share of its usable range (par − threshold) the machine's most depleted column has
  used by the visit; 1 means it is at its threshold, 0 means it is full. Visiting at ``need`` advances the
  machine's next cycle by (1 − need): a visit now saves one future visit but costs (1 − need) of another.
* ``local``: a later visit slotted into a route through its neighbourhood — twice the mean distance to the
  machine's nearest neighbours.
* ``soon`` ∈ [0, 1]: 1 when the machine will be due by the next opportunity plus ``soon_days`` (the next plan
  would have to send a truck), falling linearly to 0 ``soon_days`` later. Such a machine, left out today, forces
  a trip into its area tomorrow: ``trip`` is its depot round trip and ``trip_share`` the part of it a route
  that goes there anyway would not have driven. This is what keeps an area from being visited day after day
  for one machine at a time (an inventory-routing decision rather than a radius).
* the last term charges the extra driver time of that (1 − need) visit at ``minute_cost_m`` metres a minute.

PyVRP then adds the machine exactly when its insertion into today's routes costs less than its prize.
Machines below ``min_need`` never join.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from tradeoff.vending.planning.model import MachineState
from tradeoff.vending.planning.urgency import on_hand_at


@dataclass(frozen=True)
class JoinTuning:
    min_need: float = 0.4  # machines less depleted than this are never topped up
    minute_cost_m: float = 150.0  # metres of driving that one minute at a machine is worth
    neighbours: int = 4  # how many nearby machines define "its neighbourhood"
    soon_days: float = 1.0  # "due soon" horizon after the next opportunity
    trip_share: float = 0.5  # share of the depot round trip a separate trip into the area costs
    scale: float = 1.0  # multiplies every prize (calibration knob)


def need(machine: MachineState, *, now: datetime, at: datetime) -> float:
    """Share of the usable range used by the most depleted column at ``at`` (expected demand)."""
    worst = 0.0
    for column in machine.columns:
        span = column.par - column.threshold
        if span <= 0:
            continue
        used = (column.par - on_hand_at(column, now=now, at=at)) / span
        worst = max(worst, min(1.0, used))
    return worst


def local_visit_m(distance: npt.NDArray[np.int64], *, location: int, depots: int, neighbours: int) -> float:
    """Detour (m) of a later visit on a route through the neighbourhood of the machine at ``location``."""
    both = _both_ways(distance, location)
    others = np.delete(both[depots:], location - depots)
    if others.size == 0:
        return float(2 * both[:depots].min())
    return float(2 * np.sort(others)[:neighbours].mean())


def round_trip_m(distance: npt.NDArray[np.int64], *, location: int, depots: int) -> float:
    """Depot → machine → depot (m), from the nearest depot."""
    return float(2 * _both_ways(distance, location)[:depots].min())


def soon(due: datetime, *, next_opportunity: datetime, soon_days: float) -> float:
    """1 when due by the next opportunity + ``soon_days``, falling to 0 over the following ``soon_days``."""
    late = (due - next_opportunity).total_seconds() / 86_400 - soon_days
    return min(1.0, max(0.0, 1 - late / soon_days))


def prize(
    *, need: float, local_m: float, soon: float, trip_m: float, service_minutes: float, tuning: JoinTuning
) -> int:
    """The formula in the module docstring, in whole metres; 0 means "do not offer"."""
    if need < tuning.min_need:
        return 0
    value = max(need * local_m, soon * tuning.trip_share * trip_m)
    value -= (1 - need) * service_minutes * tuning.minute_cost_m
    return max(0, round(value * tuning.scale))


def _both_ways(distance: npt.NDArray[np.int64], location: int) -> npt.NDArray[np.float64]:
    both: npt.NDArray[np.float64] = (distance[location] + distance[:, location]).astype(np.float64) / 2
    return both
