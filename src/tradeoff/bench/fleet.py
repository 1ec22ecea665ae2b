"""``tradeoff bench fleet``: eight simulated weeks of a vending fleet under three dispatch policies.

Every policy faces the same seeded demand (``tradeoff.vending.demand``), the same trucks, depot, shifts and
router (``tradeoff.vending.planning.planner.plan``), and plans once per working day at 06:00 from what the
machines report at that moment (perfect telemetry). Policies:

* ``ours`` — the planner as shipped: forecast, urgency, the zone/day horizon schedule, prize-collecting
  selection, routing, picks at the ETA;
* ``fixed-k`` — every machine every k working days: the fleet is cut into k compact angular sectors around the
  depot, one sector a day, filled to par from the 06:00 stock (no forecast);
* ``threshold`` — a machine is visited the day any column is at or below its threshold at 06:00, filled to par;
  no look-ahead, nobody joins.

Measured: km driven, visits, units delivered, stock-out column-hours (a column empty at the end of an hour in
which its site is open) and lost sales. ``ours`` is compared with the *reference* fixed schedule: the smallest
k whose stock-outs are not below ours (so "no more stock-outs" holds and its km are the hardest to beat among
those); the fixed schedule just below it is reported too.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from tradeoff.vending.demand import FleetDemand, MachineDemand
from tradeoff.vending.forecast.model import ColumnForecast
from tradeoff.vending.planning.geo import offset
from tradeoff.vending.planning.model import (
    ColumnState,
    GeoPoint,
    MachineState,
    OpeningWindow,
    Plan,
    PlanRequest,
    TruckState,
)
from tradeoff.vending.planning.planner import Tuning, plan

DEPOT = GeoPoint(52.37, 4.89)
START = date(2026, 1, 5)  # a Monday
HISTORY_DAYS = 28  # demand seen before the run, so forecasts start warm
PLAN_HOUR, SHIFT = 6, (7, 17)
CAPACITY = {"fast": 60, "medium": 24, "intermittent": 12}  # per column type (can column, spiral): a planogram
CASE = {"fast": 24, "medium": 12, "intermittent": 6}
THRESHOLD_SHARE = 0.2  # service threshold = 20 % of capacity, the same for every policy
DISPERSION = 2.0  # forecast variance = DISPERSION × mean + (0.15 × mean)²: compound sizes and footfall noise
TARGET_KM_REDUCTION = 0.30
Progress = Callable[[str], None]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FleetOptions:
    machines: int = 50
    weeks: int = 8
    seed: int = 0
    columns: int = 10
    trucks: int = 0  # 0: one per 16 machines
    truck_capacity: int = 1500
    seconds: float = 1.0  # routing search per pass
    fixed_every: tuple[int, ...] = (1, 2, 3, 4, 5)
    service_level: float = 0.9
    warmup_days: int = 7  # simulated but not measured: each policy reaches its own steady state from one start
    opportunity_hour: int = 7  # ours: "due" means crossing before this hour of the next working day (its shift start)


@dataclass(frozen=True)
class World:
    """Machines, columns (flattened: column j belongs to machine ``owner[j]``) and the demand every policy faces."""

    options: FleetOptions
    demand: FleetDemand
    locations: tuple[GeoPoint, ...]
    owner: IntArray
    capacity: IntArray
    threshold: IntArray
    case: IntArray
    initial: IntArray
    hourly: IntArray  # [day, hour, column] vends wanted, days counted from START - HISTORY_DAYS
    weights: FloatArray  # [day, hour, column] share of the day's expected vends (0 when the site is closed)
    weekday: FloatArray  # [day, column] the site's weekday multiplier (what the operator knows of a site)

    @property
    def days(self) -> int:
        return self.options.warmup_days + self.options.weeks * 7


def build_world(options: FleetOptions) -> World:
    """The seeded fleet: demand model, clustered locations around the depot, column sizes and demand draws."""
    first = START - timedelta(days=HISTORY_DAYS)
    fleet = FleetDemand.generate(options.seed, options.machines, options.columns, first)
    rng = np.random.default_rng(options.seed + 1)
    centres = [_disc(rng, 12_000) for _ in range(max(3, options.machines // 6))]
    locations = []
    for _ in fleet.machines:
        if rng.random() < 0.1:
            east, north = _disc(rng, 12_000)
        else:
            cx, cy = centres[int(rng.integers(len(centres)))]
            east, north = cx + rng.normal(0, 800), cy + rng.normal(0, 800)
        locations.append(offset(DEPOT, east_m=east, north_m=north))
    columns = fleet.columns()
    owner = np.array([i for i, m in enumerate(fleet.machines) for _ in m.columns], dtype=np.int64)
    capacity = np.array([CAPACITY[c.demand_class] for c in columns], dtype=np.int64)
    threshold = np.maximum(1, np.round(THRESHOLD_SHARE * capacity)).astype(np.int64)
    initial = np.round(capacity * rng.uniform(0.4, 1.0, len(columns))).astype(np.int64)
    days = [first + timedelta(days=d) for d in range(HISTORY_DAYS + options.warmup_days + options.weeks * 7)]
    draws = np.random.default_rng(options.seed + 2)
    hourly = np.zeros((len(days), 24, len(columns)), dtype=np.int64)
    weights = np.zeros((len(days), 24, len(columns)))
    weekday = np.zeros((len(days), len(columns)))
    for j, col in enumerate(columns):
        shape = np.asarray(col.site.hourly_weights)
        counts = col.daily_counts(days, draws)
        hourly[:, :, j] = draws.multinomial(counts, shape)
        weekday[:, j] = [col.site.weekday[day.weekday()] for day in days]  # the site's known weekly shape only
        weights[:, :, j] = np.outer(weekday[:, j] > 0, shape)
    return World(
        options=options,
        demand=fleet,
        locations=tuple(locations),
        owner=owner,
        capacity=capacity,
        threshold=threshold,
        case=np.array([CASE[c.demand_class] for c in columns], dtype=np.int64),
        initial=initial,
        hourly=hourly,
        weights=weights,
        weekday=weekday,
    )


def _disc(rng: np.random.Generator, radius: float) -> tuple[float, float]:
    r, a = radius * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return r * math.cos(a), r * math.sin(a)


@dataclass
class Outcome:
    name: str
    km: float = 0.0
    visits: int = 0
    joined: int = 0
    deferred: int = 0
    units_delivered: int = 0
    stockout_column_hours: int = 0
    lost_units: int = 0
    plan_seconds: float = 0.0
    stockouts_by_weekday: list[int] = field(default_factory=lambda: [0] * 7)  # Monday first

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.name,
            "km": round(self.km, 1),
            "visits": self.visits,
            "joined": self.joined,
            "deferred": self.deferred,
            "units_delivered": self.units_delivered,
            "stockout_column_hours": self.stockout_column_hours,
            "lost_units": self.lost_units,
            "plan_seconds": round(self.plan_seconds, 1),
            "stockouts_by_weekday": self.stockouts_by_weekday,
        }


Policy = Callable[["World", int, IntArray, FloatArray], tuple[PlanRequest, Tuning]]


def simulate(world: World, name: str, policy: Policy, *, progress: Progress | None = None) -> Outcome:
    """Run one policy over the weeks: plan at 06:00 on working days, deliver at the ETA hour, sell hourly."""
    opts, outcome = world.options, Outcome(name)
    stock = world.initial.copy()
    sales = world.hourly[:HISTORY_DAYS].sum(axis=1).astype(np.float64)  # history: never out of stock
    exposure = (world.weights[:HISTORY_DAYS] * world.weekday[:HISTORY_DAYS, None, :]).sum(axis=1)
    sales, exposure = list(sales), list(exposure)
    for day in range(world.days):
        if day == opts.warmup_days:
            outcome = Outcome(name)  # measure from here on
        d = HISTORY_DAYS + day
        today = START + timedelta(days=day)
        deliveries: dict[int, list[tuple[int, int]]] = {}
        if today.weekday() < 5:
            rates = np.sum(sales[-28:], axis=0) / np.maximum(np.sum(exposure[-28:], axis=0), 1e-9)
            request, tuning = policy(world, day, stock, rates)
            started = time.perf_counter()
            result = plan(request, seconds=opts.seconds, seed=opts.seed + day, tuning=tuning)
            outcome.plan_seconds += time.perf_counter() - started
            _record(world, result, outcome, deliveries)
        sold_today = np.zeros(len(stock))
        exposed = np.zeros(len(stock))
        for hour in range(24):
            for j, quantity in deliveries.get(hour, []):
                given = min(quantity, int(world.capacity[j] - stock[j]))
                stock[j] += given
                outcome.units_delivered += given
            exposed += np.where(stock > 0, world.weights[d, hour] * world.weekday[d], 0.0)
            wanted = world.hourly[d, hour]
            sold = np.minimum(stock, wanted)
            stock -= sold
            sold_today += sold
            outcome.lost_units += int((wanted - sold).sum())
            empty = int(((stock == 0) & (world.weights[d, hour] > 0)).sum())
            outcome.stockout_column_hours += empty
            outcome.stockouts_by_weekday[today.weekday()] += empty
        sales.append(sold_today)
        exposure.append(exposed)
        if progress and day >= opts.warmup_days and (day - opts.warmup_days) % 7 == 6:
            week = (day - opts.warmup_days) // 7 + 1
            progress(
                f"{name}: week {week}, {outcome.km:,.0f} km, {outcome.stockout_column_hours} stock-out column-hours"
            )
    return outcome


def _record(world: World, result: Plan, outcome: Outcome, deliveries: dict[int, list[tuple[int, int]]]) -> None:
    index = {f"M{i + 1:04d}": i for i in range(len(world.locations))}
    columns = _column_index(world)
    for truck in result.trucks:
        outcome.km += truck.distance_m / 1000
        for stop in truck.stops:
            outcome.visits += 1
            outcome.joined += stop.reason == "joined"
            machine = index[stop.machine_id]
            for pick in stop.picks:
                deliveries.setdefault(stop.eta.hour, []).append((columns[machine, pick.selection], pick.quantity))
    outcome.deferred += len(result.deferred)


def _column_index(world: World) -> dict[tuple[int, str], int]:
    cols = world.demand.columns()
    return {(int(world.owner[j]), cols[j].selection): j for j in range(len(cols))}


def _request(
    world: World,
    day: int,
    stock: IntArray,
    forecasts: list[ColumnForecast],
    called: set[int],
    next_opportunity: datetime,
) -> PlanRequest:
    """The planner's view of the fleet at 06:00 of ``day``."""
    today = START + timedelta(days=day)
    now = datetime(today.year, today.month, today.day, PLAN_HOUR, tzinfo=UTC)
    cols = world.demand.columns()
    machines = []
    for i, (machine, location) in enumerate(zip(world.demand.machines, world.locations, strict=True)):
        members = np.flatnonzero(world.owner == i)
        columns = [
            ColumnState(
                selection=cols[j].selection,
                product=cols[j].product,
                capacity=int(world.capacity[j]),
                par=int(world.capacity[j]),
                threshold=int(world.threshold[j]),
                on_hand=float(stock[j]),
                case_size=int(world.case[j]),
                forecast=forecasts[j],
            )
            for j in members
        ]
        machines.append(
            MachineState(
                machine_id=machine.machine_id,
                location=location,
                service_minutes=10,
                service_seconds_per_unit=4,
                windows=_windows(machine, today),
                columns=columns,
                called_at=now if i in called else None,
            )
        )
    trucks = [
        TruckState(
            f"T{t + 1}", DEPOT, world.options.truck_capacity, now.replace(hour=SHIFT[0]), now.replace(hour=SHIFT[1])
        )
        for t in range(world.options.trucks or math.ceil(world.options.machines / 16))
    ]
    return PlanRequest(
        now=now,
        trucks=trucks,
        machines=machines,
        next_opportunity=next_opportunity,
        service_level=world.options.service_level,
    )


def _windows(machine: MachineDemand, today: date) -> tuple[OpeningWindow, ...]:
    site = machine.site
    if site.weekday[today.weekday()] == 0.0:
        return ()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    return (OpeningWindow(midnight + timedelta(hours=site.open_hour), midnight + timedelta(hours=site.close_hour)),)


def _flat(world: World, now: datetime) -> list[ColumnForecast]:
    zero = ColumnForecast(origin=now, daily_mean=(0.0,), daily_var=(0.0,), model="none")
    return [zero] * len(world.owner)


def _now(day: int) -> datetime:
    today = START + timedelta(days=day)
    return datetime(today.year, today.month, today.day, PLAN_HOUR, tzinfo=UTC)


def ours(world: World, day: int, stock: IntArray, rates: FloatArray) -> tuple[PlanRequest, Tuning]:
    """Forecast from the last four weeks' exposure-corrected sales; due before the next working day's cut-off."""
    now, d = _now(day), HISTORY_DAYS + day
    horizon = 21
    morning = world.weights[:, :PLAN_HOUR].sum(axis=1)  # share of a day's demand before 06:00, per day and column
    means = np.zeros((horizon, len(rates)))
    for i in range(horizon):
        a, b = min(d + i, len(world.weekday) - 1), min(d + i + 1, len(world.weekday) - 1)
        rest_today = world.weights[a, PLAN_HOUR:].sum(axis=0) * world.weekday[a]
        means[i] = rates * (rest_today + morning[b] * world.weekday[b])
    variances = DISPERSION * means + (0.15 * means) ** 2
    forecasts = [
        ColumnForecast(
            origin=now, daily_mean=tuple(means[:, j]), daily_var=tuple(variances[:, j]), model="exposure-mean"
        )
        for j in range(len(rates))
    ]
    hour = world.options.opportunity_hour
    opportunities = [datetime.combine(d, datetime.min.time(), UTC).replace(hour=hour) for d in _workdays_after(now, 4)]
    request = _request(world, day, stock, forecasts, set(), opportunities[0])
    return replace(request, later_opportunities=tuple(opportunities[1:])), Tuning()


def _workdays_after(now: datetime, count: int) -> list[date]:
    """The next ``count`` working days (Monday to Friday) after ``now``'s day."""
    days: list[date] = []
    day = now.date()
    while len(days) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def threshold_rule(world: World, day: int, stock: IntArray, rates: FloatArray) -> tuple[PlanRequest, Tuning]:
    """Visit a machine when any column is at or below its threshold now; fill to par from today's stock."""
    low = {int(world.owner[j]) for j in np.flatnonzero(stock <= world.threshold)}
    now = _now(day)
    return _request(world, day, stock, _flat(world, now), low, now), Tuning(allow_join=False)


def fixed_every(k: int) -> Policy:
    """Every machine every ``k`` working days, one compact angular sector per day."""

    def policy(world: World, day: int, stock: IntArray, rates: FloatArray) -> tuple[PlanRequest, Tuning]:
        angles = [math.atan2(p.lat - DEPOT.lat, p.lon - DEPOT.lon) for p in world.locations]
        order = sorted(range(len(angles)), key=angles.__getitem__)
        workday = sum(1 for x in range(day) if (START + timedelta(days=x)).weekday() < 5)
        group = {m for rank, m in enumerate(order) if rank * k // len(order) == workday % k}
        now = _now(day)
        return _request(world, day, stock, _flat(world, now), group, now), Tuning(allow_join=False)

    return policy


def run_fleet_bench(options: FleetOptions, *, progress: Progress | None = None) -> dict[str, Any]:
    """All policies on one world; the JSON report (see the module docstring for the comparison rule)."""
    started = time.perf_counter()
    world = build_world(options)
    policies: list[tuple[str, Policy]] = [("ours", ours), ("threshold", threshold_rule)]
    policies += [(f"fixed-{k}", fixed_every(k)) for k in options.fixed_every]
    results = [simulate(world, name, policy, progress=progress).as_dict() for name, policy in policies]
    return report(results, options=options, seconds=time.perf_counter() - started)


def report(results: list[dict[str, Any]], *, options: FleetOptions, seconds: float) -> dict[str, Any]:
    """Ratios against the reference fixed schedule and the verdict on the target."""
    by_name = {row["policy"]: row for row in results}
    mine = by_name["ours"]
    fixed = sorted((r for r in results if r["policy"].startswith("fixed-")), key=lambda r: -r["km"])
    matching = [r for r in fixed if r["stockout_column_hours"] >= mine["stockout_column_hours"]]
    reference = matching[0] if matching else (fixed[-1] if fixed else None)
    better = [r for r in fixed if r["stockout_column_hours"] < mine["stockout_column_hours"]]
    for row in results:
        row["vs_reference"] = _ratios(row, reference)
    reduction = 1 - mine["km"] / reference["km"] if reference and reference["km"] else None
    fewer = reference is not None and mine["stockout_column_hours"] <= reference["stockout_column_hours"]
    return {
        "bench": "fleet",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "cpu_model": platform.processor(),
            "python": platform.python_version(),
        },
        "settings": {**options.__dict__, "fixed_every": list(options.fixed_every), "start": START.isoformat()},
        "policies": results,
        "reference_fixed": reference["policy"] if reference else None,
        "fixed_with_fewer_stockouts": better[-1]["policy"] if better else None,
        "target": {
            "km_reduction_wanted": TARGET_KM_REDUCTION,
            "km_reduction": None if reduction is None else round(reduction, 3),
            "stockouts_not_more": fewer,
            "met": reduction is not None and reduction >= TARGET_KM_REDUCTION and fewer,
            # stock-out column-hours are rare events: a difference inside ~2 Poisson sigmas is noise
            "stockout_noise_2sigma": None if reference is None else _noise(mine, reference),
        },
        "seconds": round(seconds, 1),
    }


def _noise(mine: dict[str, Any], reference: dict[str, Any]) -> float:
    return round(2 * math.sqrt(mine["stockout_column_hours"] + reference["stockout_column_hours"]), 1)


def _ratios(row: dict[str, Any], reference: dict[str, Any] | None) -> dict[str, float | None]:
    if reference is None:
        return {}
    keys = ("km", "visits", "units_delivered", "stockout_column_hours", "lost_units")
    return {key: round(row[key] / reference[key], 3) if reference[key] else None for key in keys}
