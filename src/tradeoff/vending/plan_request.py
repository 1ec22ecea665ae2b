"""Maps the fleet and its stock to planning's ``PlanRequest``; forecasting is injected, not done here.

A column's on-hand "now" is its last known on-hand minus the forecast demand since that observation, so
a machine whose audits stopped arriving still drifts toward its threshold. A column with no level yet
(never filled or counted) is planned as empty: the first visit fills it to par and establishes one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from tradeoff.core.errors import InvalidInput
from tradeoff.vending import validate
from tradeoff.vending.fleet import (
    Machine,
    Truck,
    get_depot,
    get_machine,
    get_planogram,
    list_machines,
    list_products,
    list_trucks,
)
from tradeoff.vending.forecast.model import ColumnForecast
from tradeoff.vending.planning.model import (
    CasePolicy,
    ColumnState,
    GeoPoint,
    MachineState,
    OpeningWindow,
    PlanRequest,
    TruckState,
)
from tradeoff.vending.projections import load_columns
from tradeoff.vending.stock import threshold_units
from tradeoff.vending.store import vending_alerts, vending_column_vends

History = list[tuple[date, int]]
Forecaster = Callable[[Sequence[tuple[date, int]], datetime], ColumnForecast]
CALL_KINDS = ("fault", "sold_out")  # open alerts through which a machine asks for service


def daily_history(conn: Connection, *, tenant_id: str, machine_id: str) -> dict[str, History]:
    """Per column, vends per whole local day between its first audit and its last one, zeros included.

    Only days the audits cover completely are listed: the first and last day of the span are partial (sales
    before the first audit are unknown, after the last not yet read), so they are left out as unknown."""
    zone = _zone_of(conn, tenant_id, machine_id)
    table = vending_column_vends
    sold: dict[str, dict[date, int]] = {}
    query = select(table.c.selection, table.c.day, table.c.vends).where(
        table.c.tenant_id == tenant_id, table.c.machine_id == machine_id
    )
    for selection, day, vends in conn.execute(query):
        sold.setdefault(selection, {})[day] = vends
    history: dict[str, History] = {}
    for selection, row in load_columns(conn, machine_id).items():
        if row.first_seen_at is None or row.counters_at is None:
            continue
        first = row.first_seen_at.astimezone(zone)
        start = first.date() if _local(first.date(), "00:00", zone) == first else first.date() + timedelta(days=1)
        end = row.counters_at.astimezone(zone).date() - timedelta(days=1)
        days = sold.get(selection, {})
        history[selection] = [(day, days.get(day, 0)) for day in _days(start, end)]
    return history


def _zone_of(conn: Connection, tenant_id: str, machine_id: str) -> ZoneInfo:
    return validate.timezone(get_machine(conn, tenant_id=tenant_id, machine_id=machine_id).timezone)


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def opening_windows(machine: Machine, start: datetime, end: datetime) -> list[OpeningWindow]:
    """The machine's opening hours as absolute windows within [start, end]; no hours: open throughout."""
    if not machine.opening_hours:
        return [OpeningWindow(start, end)]
    zone = validate.timezone(machine.timezone)
    windows: list[OpeningWindow] = []
    for day in _days(start.astimezone(zone).date() - timedelta(days=1), end.astimezone(zone).date()):
        for opens, closes in machine.opening_hours.get(validate.DAYS[day.weekday()], []):
            lo = max(start, _local(day, opens, zone))
            hi = min(end, _local(day, closes, zone))
            if lo >= hi:
                continue
            if windows and lo <= windows[-1].end:  # touching spans (e.g. 22:00-24:00, 00:00-06:00) merge
                windows[-1] = OpeningWindow(windows[-1].start, max(hi, windows[-1].end))
            else:
                windows.append(OpeningWindow(lo, hi))
    return windows


def _local(day: date, clock: str, zone: ZoneInfo) -> datetime:
    """A local wall-clock time on a local day, in UTC (24:00 is the next midnight)."""
    minutes = validate.minutes_of(clock)
    return (datetime.combine(day, time(), tzinfo=zone) + timedelta(minutes=minutes)).astimezone(UTC)


def next_shift(truck: Truck, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """The shift in progress (from now) or the next one; a shift ending before it starts ends next day."""
    today = now.astimezone(zone).date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        start, end = _local(day, truck.shift_start, zone), _local(day, truck.shift_end, zone)
        if end <= start:
            end += timedelta(days=1)
        if end > now:
            return max(start, now), end
    raise AssertionError("unreachable: tomorrow's shift always ends after now")


def _truck_state(truck: Truck, depot: GeoPoint, zone: ZoneInfo, now: datetime, unit_volume: float | None) -> TruckState:
    capacity = truck.capacity_units
    if truck.capacity_volume_l is not None and unit_volume:
        by_volume = int(truck.capacity_volume_l // unit_volume)
        capacity = by_volume if capacity is None else min(capacity, by_volume)
    if capacity is None:
        raise InvalidInput(
            "capacity_units", f"truck {truck.name!r} has only a volume and no product has a unit volume to convert it"
        )
    start, end = next_shift(truck, zone, now)
    return TruckState(truck.id, depot, capacity, start, end)


def _called_at(conn: Connection, tenant_id: str) -> dict[str, datetime]:
    table = vending_alerts
    query = (
        select(table.c.machine_id, func.min(table.c.opened_at))
        .where(table.c.tenant_id == tenant_id, table.c.resolved_at.is_(None), table.c.kind.in_(CALL_KINDS))
        .group_by(table.c.machine_id)
    )
    return {machine_id: at for machine_id, at in conn.execute(query) if machine_id is not None}


def _columns(
    conn: Connection,
    machine: Machine,
    *,
    now: datetime,
    forecaster: Forecaster,
    skus: Mapping[str, tuple[str, int]],
) -> list[ColumnState]:
    rows = load_columns(conn, machine.id)
    history = daily_history(conn, tenant_id=machine.tenant_id, machine_id=machine.id)
    states = []
    for column in get_planogram(conn, tenant_id=machine.tenant_id, machine_id=machine.id):
        row = rows.get(column.selection)
        past = history.get(column.selection, [])
        on_hand = 0.0
        if row is not None and row.stock.on_hand is not None:
            on_hand = float(row.stock.on_hand)
            seen = max(t for t in (row.level_at, row.counters_at, row.sensor_at) if t is not None)
            if seen < now:  # sales since the last observation, as the forecast expects them
                on_hand = max(0.0, on_hand - forecaster(past, seen).demand_until(now))
        sku, case_size = skus[column.product_id]
        states.append(
            ColumnState(
                selection=column.selection,
                product=sku,
                capacity=column.capacity,
                par=column.par,
                threshold=threshold_units(column.par, column.threshold_pct),
                on_hand=on_hand,
                case_size=case_size,
                forecast=forecaster(past, now),
            )
        )
    return states


def build_plan_request(
    conn: Connection,
    *,
    tenant_id: str,
    now: datetime,
    forecaster: Forecaster,
    next_opportunity: datetime,
    depot_id: str | None = None,
    case_policy: CasePolicy = "unit",
    service_level: float = 0.9,
) -> PlanRequest:
    """The fleet as planning sees it (one depot's trucks and machines when ``depot_id`` is given)."""
    if now.tzinfo is None or next_opportunity.tzinfo is None:
        raise InvalidInput("now", "times must carry a time zone")
    if next_opportunity <= now:
        raise InvalidInput("next_opportunity", "must be after now")
    if depot_id is not None:
        get_depot(conn, tenant_id=tenant_id, depot_id=depot_id)
    products = list_products(conn, tenant_id=tenant_id)
    skus = {p.id: (p.sku, p.case_size) for p in products}
    volumes = [p.unit_volume_l for p in products if p.unit_volume_l]
    unit_volume = max(volumes) if volumes else None  # the bulkiest product: a conservative unit count
    trucks = []
    for truck in list_trucks(conn, tenant_id=tenant_id, depot_id=depot_id):
        depot = get_depot(conn, tenant_id=tenant_id, depot_id=truck.depot_id)
        zone = validate.timezone(depot.timezone)
        trucks.append(_truck_state(truck, GeoPoint(depot.lat, depot.lon), zone, now, unit_volume))
    horizon = max([next_opportunity, now + timedelta(days=1), *(t.shift_end for t in trucks)])
    called = _called_at(conn, tenant_id)
    machines = []
    for machine in list_machines(conn, tenant_id=tenant_id, depot_id=depot_id):
        columns = _columns(conn, machine, now=now, forecaster=forecaster, skus=skus)
        if not columns:
            continue  # no planogram: nothing to plan for
        machines.append(
            MachineState(
                machine_id=machine.id,
                location=GeoPoint(machine.lat, machine.lon),
                service_minutes=machine.service_minutes,
                service_seconds_per_unit=machine.service_seconds_per_unit,
                windows=opening_windows(machine, now, horizon),
                columns=columns,
                called_at=called.get(machine.id),
            )
        )
    return PlanRequest(
        now=now,
        trucks=trucks,
        machines=machines,
        next_opportunity=next_opportunity,
        case_policy=case_policy,
        service_level=service_level,
    )
