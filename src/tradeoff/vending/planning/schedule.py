"""Which day each soon-due machine is served: a small rolling-horizon MIP (HiGHS) over areas and days.

A myopic rule sends a truck into an area every day for whichever machine happens to be due, so every area is
visited nearly daily. Here machines are grouped into *zones* (greedy clusters within ``radius_m``) and, over
the next ``horizon_days`` opportunities, the model picks the days each zone is visited:

    minimise   Σ_z,d zone_cost_z · open[z,d]  +  Σ_i,d early_m · (last_i − d) · visit[i,d]  +  BIG · Σ_d over_d
    subject to Σ_{d ≤ last_i} visit[i,d] = 1              every machine due within the horizon is served in time
               visit[i,d] ≤ open[zone(i), d]                 a machine is served only when its zone is visited
               Σ_i units_i · visit[i,d] ≤ capacity + over_d  the fleet's units per day (soft)

``last_i`` is the last opportunity before machine i is due (0: today). ``zone_cost`` is ``trip_share`` of the
zone's depot round trip — what adding the area to a day's routes costs; ``early_m`` per day charges serving a
machine before it needs it (its cycle restarts earlier). Only today's decision is used; tomorrow's plan solves
again with fresh stock (rolling horizon).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from highspy.highs import highs_linear_expression, highs_var

from tradeoff.vending.irp.highs import quiet_highs

OVER_PENALTY = 1e6  # metres per unit over the day's capacity: only when nothing else fits


@dataclass(frozen=True)
class ZoneTuning:
    radius_m: float = 4000.0  # machines this close (road metres) to a zone's first machine share it
    horizon_days: int = 3  # opportunities looked at: today and the next two
    trip_share: float = 0.5  # a zone's cost per visited day, as a share of its depot round trip
    early_m: float = 1000.0  # cost of serving a machine one opportunity before it needs it


@dataclass(frozen=True)
class Candidate:
    index: int  # the caller's machine index
    zone: int
    last: int  # last opportunity (0 = today) at which it can still be served in time
    units: int  # units it would take (today's estimate)


def zones(distance: npt.NDArray[np.int64], *, locations: Sequence[int], radius_m: float) -> list[int]:
    """Zone number per location: each unassigned machine, in order, opens a zone and takes its neighbours."""
    zone = [-1] * len(locations)
    count = 0
    for a, here in enumerate(locations):
        if zone[a] >= 0:
            continue
        for b in range(a, len(locations)):
            there = locations[b]
            if zone[b] < 0 and max(distance[here, there], distance[there, here]) <= radius_m:
                zone[b] = count
        count += 1
    return zone


def today(
    candidates: Sequence[Candidate],
    *,
    zone_cost: Sequence[float],
    capacity: int,
    tuning: ZoneTuning,
) -> tuple[set[int], set[int]]:
    """(machines to serve today, zones visited today) from the optimal horizon schedule."""
    if not candidates:
        return set(), set()
    horizon = max(c.last for c in candidates) + 1
    solver = quiet_highs()
    used_zones = sorted({c.zone for c in candidates})
    opened = {(z, d): solver.addBinary(obj=float(zone_cost[z])) for z in used_zones for d in range(horizon)}
    over = [solver.addVariable(lb=0.0, obj=OVER_PENALTY) for _ in range(horizon)]
    visits: dict[tuple[int, int], highs_var] = {}
    for i, c in enumerate(candidates):
        for d in range(c.last + 1):
            visits[i, d] = solver.addBinary(obj=tuning.early_m * (c.last - d))
            solver.addConstr(visits[i, d] <= opened[c.zone, d])
        served = highs_linear_expression()
        for d in range(c.last + 1):
            served += visits[i, d]
        solver.addConstr(served >= 1)  # exactly once: at least once here, at most once by the objective's costs
    for d in range(horizon):
        load = [c.units * visits[i, d] for i, c in enumerate(candidates) if (i, d) in visits]
        if load:
            solver.addConstr(sum(load) <= capacity + over[d])
    solver.minimize()
    serve = {c.index for i, c in enumerate(candidates) if solver.val(visits[i, 0]) > 0.5}
    open_today = {z for z in used_zones if solver.val(opened[z, 0]) > 0.5}
    return serve, open_today
