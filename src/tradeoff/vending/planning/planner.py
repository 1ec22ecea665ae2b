"""``plan``: who is served today, by which truck, when, with what.

1. Urgency: machines forecast to reach a threshold before the next opportunity (or that called) are required,
   with their forecast stock-out as an arrival deadline.
2. Horizon schedule (``schedule``, HiGHS): which zones get a truck today, and which soon-due machines are
   pulled into today rather than sending another truck into their area tomorrow.
3. Selection: other machines in today's zones get a prize (``selection``) and are optional stops.
4. Picks at a first ETA guess give each stop its units (demand) and service time; PyVRP routes them with
   capacities, opening windows ∩ shifts and service times (prize-collecting VRP with time windows).
5. Picks are recomputed at the routed ETAs; when that moves the units by more than ``repick_tolerance`` the
   problem is routed once more. Final picks that overfill a truck are cut back by the HiGHS model in ``trim``.
A required machine that cannot be served is listed in ``Plan.deferred`` with its reason in
``meta["deferred_reasons"]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

import numpy as np
import numpy.typing as npt

from tradeoff.vending.planning.geo import matrices
from tradeoff.vending.planning.model import MachineState, Pick, Plan, PlannedStop, PlanRequest, Reason, TruckPlan
from tradeoff.vending.planning.picks import increment, machine_picks, units
from tradeoff.vending.planning.schedule import Candidate, ZoneTuning, today, zones
from tradeoff.vending.planning.selection import JoinTuning, local_visit_m, need, prize, round_trip_m, soon
from tradeoff.vending.planning.trim import TrimItem, trim_to_capacity
from tradeoff.vending.planning.urgency import Urgency, demand_between, on_hand_at, urgency
from tradeoff.vending.routing.problem import RoutingProblem, RoutingSolution, Stop, Vehicle
from tradeoff.vending.routing.solver import solve

PACKING_SLACK = 0.9  # when due picks exceed the fleet, trim them to this share of it so they still pack into trucks
NO_CAPACITY = "no truck capacity or shift time left for it"
Matrix = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Tuning:
    join: JoinTuning = field(default_factory=JoinTuning)
    allow_join: bool = True  # False: serve only required machines (the baselines)
    zones: ZoneTuning | None = field(default_factory=ZoneTuning)  # None: myopic (no horizon schedule)
    deadlines: bool = True  # due stops must arrive before their forecast stock-out (relaxed if infeasible)
    repick_tolerance: float = 0.1  # route again when picks at the ETAs move total units by more than this share


@dataclass
class _Site:
    machine: MachineState
    location: int
    window: tuple[int, int]  # seconds from the epoch: opening window ∩ shift
    reason: Reason
    prize: int
    deadline: int | None = None  # seconds from the epoch: arrive before the forecast stock-out
    picks: tuple[Pick, ...] = ()


def plan(request: PlanRequest, *, seconds: float = 5, seed: int = 0, tuning: Tuning | None = None) -> Plan:
    """Plan one shift for ``request`` with ``seconds`` of routing search per routing pass."""
    started = time.perf_counter()
    tuning = tuning or Tuning()
    now = request.now
    # a shift already under way starts now; one that is over is of no use
    trucks = [replace(t, shift_start=max(t.shift_start, now)) for t in request.trucks if t.shift_end > now]
    request = replace(request, trucks=trucks)
    deferred: dict[str, str] = {}
    if not trucks:
        for machine in request.machines:
            if urgency(machine, now=now, next_opportunity=request.next_opportunity, q=request.service_level).required:
                deferred[machine.machine_id] = "no trucks"
        return _empty(request, deferred, started)
    epoch = min(truck.shift_start for truck in trucks)
    depots = list(dict.fromkeys(truck.depot for truck in trucks))
    distance, duration = matrices([*depots, *(m.location for m in request.machines)])
    sites = _sites(request, epoch=epoch, depots=len(depots), distance=distance, tuning=tuning, deferred=deferred)
    vehicles = [
        Vehicle(
            name=truck.truck_id,
            capacity=truck.capacity_units,
            depot=depots.index(truck.depot),
            shift_start=_secs(truck.shift_start, epoch),
            shift_end=_secs(truck.shift_end, epoch),
        )
        for truck in trucks
    ]
    for site in sites:  # first ETA guess: as early as the site opens and the nearest truck can get there
        reach = min(v.shift_start + int(duration[v.depot, site.location]) for v in vehicles)
        site.picks = _picks(request, site, epoch + timedelta(seconds=max(site.window[0], reach)))
    _trim_required(request, sites, int(PACKING_SLACK * sum(v.capacity for v in vehicles)), epoch)
    if not tuning.deadlines:
        for site in sites:
            site.deadline = None
    build = partial(_problem, sites, vehicles, len(depots), distance, duration)
    solution = _solve(build, seconds=seconds, seed=seed)
    passes = 1
    changed, total = 0, 0
    for route in solution.routes:
        for index, arrival in zip(route.stops, route.arrivals, strict=True):
            site = sites[index]
            fresh = _picks(request, site, epoch + timedelta(seconds=arrival))
            changed += abs(units(fresh) - units(site.picks))
            total += units(site.picks)
            site.picks = fresh
    if changed > tuning.repick_tolerance * max(total, 1):
        solution = _solve(build, seconds=seconds, seed=seed)
        passes = 2
    return _assemble(request, sites, solution, vehicles, epoch=epoch, deferred=deferred, passes=passes, started=started)


def _sites(
    request: PlanRequest,
    *,
    epoch: datetime,
    depots: int,
    distance: Matrix,
    tuning: Tuning,
    deferred: dict[str, str],
) -> list[_Site]:
    """Required machines and, when joining is on, the optional ones that have a positive prize."""
    shift_end = max(truck.shift_end for truck in request.trucks)
    middle = epoch + (shift_end - epoch) / 2
    states = [
        urgency(m, now=request.now, next_opportunity=request.next_opportunity, q=request.service_level)
        for m in request.machines
    ]
    windows = [_window(m, epoch, shift_end) for m in request.machines]
    pulled: dict[int, int] = {}  # machine → prize: brought forward by the horizon schedule
    open_zones: set[int] | None = None  # None: every area may be joined
    zone_of: list[int] = []
    if tuning.allow_join and tuning.zones is not None:
        pulled, open_zones, zone_of = _horizon(request, states, windows, depots, distance, middle, tuning.zones)
    sites: list[_Site] = []
    for offset, (machine, state, window) in enumerate(zip(request.machines, states, windows, strict=True)):
        location = depots + offset
        if state.required:
            if window is None:
                deferred[machine.machine_id] = "closed during every shift"
            else:
                deadline = None if state.stockout is None else _secs(state.stockout, epoch)
                sites.append(_Site(machine, location, window, state.reason, 0, deadline))
        elif offset in pulled and window is not None:
            sites.append(_Site(machine, location, window, "joined", pulled[offset]))
        elif tuning.allow_join and state.due is not None and window is not None:
            if open_zones is not None and zone_of[offset] not in open_zones:
                continue  # its area gets no truck today: joining would only spread the routes
            value = prize(
                need=need(machine, now=request.now, at=middle),
                local_m=local_visit_m(distance, location=location, depots=depots, neighbours=tuning.join.neighbours),
                soon=soon(state.due, next_opportunity=request.next_opportunity, soon_days=tuning.join.soon_days),
                trip_m=round_trip_m(distance, location=location, depots=depots),
                service_minutes=machine.service_minutes,
                tuning=tuning.join,
            )
            if value > 0:
                sites.append(_Site(machine, location, window, "joined", value))
    return sites


def _horizon(
    request: PlanRequest,
    states: Sequence[Urgency],
    windows: Sequence[tuple[int, int] | None],
    depots: int,
    distance: Matrix,
    middle: datetime,
    tuning: ZoneTuning,
) -> tuple[dict[int, int], set[int], list[int]]:
    """Run the horizon schedule: (machines pulled into today with their prizes, zones open today, zone per machine)."""
    opportunities = [request.next_opportunity, *request.later_opportunities]
    while len(opportunities) < tuning.horizon_days:
        opportunities.append(opportunities[-1] + timedelta(days=1))
    locations = [depots + i for i in range(len(request.machines))]
    zone_of = zones(distance, locations=locations, radius_m=tuning.radius_m)
    trips = [round_trip_m(distance, location=loc, depots=depots) for loc in locations]
    zone_cost = [0.0] * (max(zone_of, default=-1) + 1)
    for i, z in enumerate(zone_of):
        if zone_cost[z] == 0.0:
            zone_cost[z] = tuning.trip_share * trips[i]  # the zone's first machine stands for it
    candidates = []
    for i, (machine, state, window) in enumerate(zip(request.machines, states, windows, strict=True)):
        if state.due is None or window is None:
            continue
        last = next((d for d, opp in enumerate(opportunities[: tuning.horizon_days]) if state.due < opp), None)
        if last is None:
            continue
        demand = units(machine_picks(machine, now=request.now, eta=middle, policy=request.case_policy))
        candidates.append(Candidate(i, zone=zone_of[i], last=0 if state.required else last, units=demand))
    capacity = sum(truck.capacity_units for truck in request.trucks)
    serve, open_zones = today(candidates, zone_cost=zone_cost, capacity=capacity, tuning=tuning)
    pulled = {i: round(trips[i]) for i in serve if not states[i].required}
    return pulled, open_zones, zone_of


def _window(machine: MachineState, start: datetime, end: datetime) -> tuple[int, int] | None:
    """The longest opening window overlapping [start, end], clipped to it (seconds from ``start``)."""
    best: tuple[int, int] | None = None
    for window in machine.windows:
        lo, hi = max(window.start, start), min(window.end, end)
        if hi > lo and (best is None or _secs(hi, lo) > best[1] - best[0]):
            best = (_secs(lo, start), _secs(hi, start))
    return best


def _picks(request: PlanRequest, site: _Site, eta: datetime) -> tuple[Pick, ...]:
    return machine_picks(site.machine, now=request.now, eta=eta, policy=request.case_policy)


def _service(machine: MachineState, quantity: int) -> int:
    return round(machine.service_minutes * 60 + machine.service_seconds_per_unit * quantity)


def _problem(
    sites: Sequence[_Site],
    vehicles: list[Vehicle],
    depots: int,
    distance: Matrix,
    duration: Matrix,
    *,
    deadlines: bool = True,
) -> RoutingProblem:
    keep = np.array([*range(depots), *(site.location for site in sites)], dtype=np.intp)
    largest = max(v.capacity for v in vehicles)
    stops = []
    for site in sites:
        demand = units(site.picks)
        service = _service(site.machine, demand)
        late = max(site.window[0], site.window[1] - service)
        if deadlines and site.deadline is not None and site.deadline > site.window[0]:
            late = min(late, site.deadline)
        stops.append(
            Stop(
                key=site.machine.machine_id,
                demand=min(demand, largest),
                service=service,
                tw_early=site.window[0],
                tw_late=late,
                required=site.reason != "joined",
                prize=site.prize,
            )
        )
    return RoutingProblem(
        depots=depots,
        stops=stops,
        vehicles=vehicles,
        distance=np.ascontiguousarray(distance[np.ix_(keep, keep)]),
        duration=np.ascontiguousarray(duration[np.ix_(keep, keep)]),
    )


def _solve(build: Callable[..., RoutingProblem], *, seconds: float, seed: int) -> RoutingSolution:
    """Route with stock-out deadlines; if that fails, without them; then with due stops optional but precious."""
    strict = build()
    solution = solve(strict, seconds=seconds, seed=seed)
    if solution.feasible or not any(stop.required for stop in strict.stops):
        return solution
    problem = build(deadlines=False)
    if any(a.tw_late != b.tw_late for a, b in zip(strict.stops, problem.stops, strict=True)):
        solution = solve(problem, seconds=seconds, seed=seed)
        if solution.feasible:
            return replace(solution, meta={**solution.meta, "relaxed": "deadlines"})
    precious = 3 * int(problem.distance.max()) + 1  # more than any insertion can cost: kept whenever it fits
    relaxed = [replace(stop, required=False, prize=precious) if stop.required else stop for stop in problem.stops]
    fallback = solve(replace(problem, stops=relaxed), seconds=seconds, seed=seed)
    meta = {**fallback.meta, "relaxed": "required", "first_violations": solution.meta.get("violations")}
    return replace(fallback, meta=meta)


def _trim_required(request: PlanRequest, sites: list[_Site], capacity: int, epoch: datetime) -> None:
    """Cut every site to the largest truck, and the required ones to the whole fleet, with the HiGHS model."""
    largest = max(truck.capacity_units for truck in request.trucks)
    for site in sites:
        if units(site.picks) > largest:
            site.picks = _trimmed(request, [site], largest, epoch)[0]
    required = [site for site in sites if site.reason != "joined"]
    if sum(units(site.picks) for site in required) > capacity:
        for site, picks in zip(required, _trimmed(request, required, capacity, epoch), strict=True):
            site.picks = picks


def _trimmed(request: PlanRequest, sites: Sequence[_Site], capacity: int, eta: datetime) -> list[tuple[Pick, ...]]:
    items: list[TrimItem] = []
    owners: list[tuple[int, Pick]] = []
    for number, site in enumerate(sites):
        columns = {column.selection: column for column in site.machine.columns}
        for pick in site.picks:
            column = columns[pick.selection]
            left = on_hand_at(column, now=request.now, at=eta)
            items.append(
                TrimItem(
                    wanted=pick.quantity,
                    step=increment(request.case_policy, column.case_size),
                    on_hand=left,
                    rate=demand_between(column, eta, eta + timedelta(days=1)),
                    low=left <= column.threshold,
                )
            )
            owners.append((number, pick))
    quantities = trim_to_capacity(items, capacity)
    result: list[list[Pick]] = [[] for _ in sites]
    for (number, pick), quantity in zip(owners, quantities, strict=True):
        if quantity > 0:
            result[number].append(replace(pick, quantity=quantity))
    return [tuple(picks) for picks in result]


def _assemble(
    request: PlanRequest,
    sites: list[_Site],
    solution: RoutingSolution,
    vehicles: list[Vehicle],
    *,
    epoch: datetime,
    deferred: dict[str, str],
    passes: int,
    started: float,
) -> Plan:
    excluded = solution.meta.get("excluded", {})
    served: set[int] = set()
    trucks = []
    capacity = {v.name: v.capacity for v in vehicles}
    for route in solution.routes:
        etas = [epoch + timedelta(seconds=arrival) for arrival in route.arrivals]
        picks = [_picks(request, sites[index], eta) for index, eta in zip(route.stops, etas, strict=True)]
        if sum(units(p) for p in picks) > capacity[route.vehicle]:
            picks = _trim_route(request, [sites[i] for i in route.stops], picks, etas, capacity[route.vehicle])
        stops = []
        load: dict[str, int] = {}
        for index, eta, chosen in zip(route.stops, etas, picks, strict=True):
            site = sites[index]
            served.add(index)
            for pick in chosen:
                load[pick.product] = load.get(pick.product, 0) + pick.quantity
            departs = eta + timedelta(seconds=_service(site.machine, units(chosen)))
            stops.append(PlannedStop(site.machine.machine_id, eta, departs, site.reason, chosen))
        trucks.append(
            TruckPlan(
                truck_id=route.vehicle,
                stops=tuple(stops),
                load=dict(sorted(load.items())),
                distance_m=route.distance,
                departs=epoch + timedelta(seconds=route.start),
                returns=epoch + timedelta(seconds=route.end),
            )
        )
    for index, site in enumerate(sites):
        if index not in served and site.reason != "joined":
            why = excluded.get(site.machine.machine_id) if isinstance(excluded, dict) else None
            deferred[site.machine.machine_id] = str(why or NO_CAPACITY)
    joined = sum(1 for i in served if sites[i].reason == "joined")
    meta: dict[str, object] = {
        "solver": solution.solver,
        "routing_passes": passes,
        "seconds": round(time.perf_counter() - started, 3),
        "distance_m": sum(t.distance_m for t in trucks),
        "required": len({s.machine.machine_id for s in sites if s.reason != "joined"} | set(deferred)),
        "candidates": sum(1 for s in sites if s.reason == "joined"),
        "joined": joined,
        "deferred_reasons": dict(sorted(deferred.items())),
        "relaxed": solution.meta.get("relaxed", ""),
        "feasible": solution.feasible,
        "violations": _strings(solution.meta.get("violations")),
    }
    return Plan(created_at=request.now, trucks=tuple(trucks), deferred=tuple(sorted(deferred)), meta=meta)


def _trim_route(
    request: PlanRequest,
    sites: list[_Site],
    picks: list[tuple[Pick, ...]],
    etas: list[datetime],
    capacity: int,
) -> list[tuple[Pick, ...]]:
    """Picks at the final ETAs can exceed the truck by a few units: cut back with the HiGHS model."""
    staged = [replace(site, picks=chosen) for site, chosen in zip(sites, picks, strict=True)]
    middle = etas[len(etas) // 2]
    return _trimmed(request, staged, capacity, middle)


def _empty(request: PlanRequest, deferred: dict[str, str], started: float) -> Plan:
    meta: dict[str, object] = {
        "deferred_reasons": dict(sorted(deferred.items())),
        "seconds": time.perf_counter() - started,
    }
    return Plan(created_at=request.now, trucks=(), deferred=tuple(sorted(deferred)), meta=meta)


def _strings(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list | tuple) else []


def _secs(later: datetime, earlier: datetime) -> int:
    return int((later - earlier).total_seconds())
