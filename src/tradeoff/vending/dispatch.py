"""Dispatch without a human: plan each depot's next shift from the fleet's state and store it as dispatched.

Rules (docs/vending-dispatch.md):

* **Not started → superseded.** A proposed or dispatched plan of the depot none of whose trucks has left yet
  (earliest departure after ``now``, or no routes at all) is replaced by the new plan.
* **Started → kept.** A plan with a truck already out stays dispatched: drivers follow it until it is
  completed. Until its last truck is back, its trucks are busy (a truck may take a second route only after it
  returns, within its shift) and its machines whose stop is still ahead are covered (left out of new plans).
* Everything reads the ``now`` it is given, never the wall clock, so a simulator's accelerated clock works.
  (The store's own ``status_changed_at`` stamps are wall-clock; ``Plan.created_at`` is ``now``.)
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, select, text

from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.vending import validate, views
from tradeoff.vending.fleet import get_depot, list_depots, list_machines, list_trucks
from tradeoff.vending.forecast.model import ColumnForecast
from tradeoff.vending.plan_request import CALL_KINDS, Forecaster, build_plan_request, daily_history, next_shift
from tradeoff.vending.plan_store import StoredPlan, latest_plans, load_plan, save_plan, set_plan_status
from tradeoff.vending.planning.model import Plan, PlanRequest
from tradeoff.vending.planning.planner import plan as make_plan
from tradeoff.vending.store import vending_alerts

# (conn, tenant_id, now, depot_id) → the forecaster for that depot's columns
ForecastSource = Callable[[Connection, str, datetime, str | None], Forecaster]
_LOCK = threading.Lock()  # one planning run at a time in this process: no two dispatched plans for one shift
History = list[tuple[date, int]]


class HistoryLookup:
    """Hands ``build_plan_request`` forecasts fitted beforehand in one batch, found by the history's content.

    ``build_plan_request`` asks with (history, origin) only, so the lookup key is the history itself. Two
    columns with equal histories but different fitted forecasts (their machines' weekday profiles differ) are
    ambiguous: they are fitted again alone. An origin other than the batch's (the last observation, when the
    on-hand is drifted to now) gets the same forecast re-anchored there: audits come daily, so the shift is
    hours and the weekday misalignment negligible.
    """

    def __init__(
        self, fitted: Mapping[Hashable, ColumnForecast], histories: Mapping[Hashable, History], origin: datetime
    ) -> None:
        self.origin = origin
        self._found: dict[tuple[tuple[date, int], ...], ColumnForecast] = {}
        ambiguous: set[tuple[tuple[date, int], ...]] = set()
        for key, history in histories.items():
            content = tuple(history)
            forecast = fitted[key]
            if content in self._found and self._found[content] != forecast:
                ambiguous.add(content)
            self._found.setdefault(content, forecast)
        for content in ambiguous:
            del self._found[content]

    def __call__(self, history: Sequence[tuple[date, int]], origin: datetime) -> ColumnForecast:
        content = tuple(history)
        found = self._found.get(content)
        if found is None:
            from tradeoff.vending.forecast.fit import fit_forecast  # statsforecast: slow to import

            found = fit_forecast(list(history), origin=self.origin)
            self._found[content] = found
        return found if origin == found.origin else replace(found, origin=origin)


def fleet_forecaster(conn: Connection, tenant_id: str, now: datetime, depot_id: str | None) -> Forecaster:
    """Fit every column of the depot's machines in one ``fit_forecasts`` call (machines pool weekday profiles)."""
    from tradeoff.vending.forecast.fit import fit_forecasts  # statsforecast: slow to import

    histories: dict[Hashable, History] = {}
    groups: dict[Hashable, Hashable] = {}
    for machine in list_machines(conn, tenant_id=tenant_id, depot_id=depot_id):
        for selection, history in daily_history(conn, tenant_id=tenant_id, machine_id=machine.id).items():
            histories[(machine.id, selection)] = history
            groups[(machine.id, selection)] = machine.id
    fitted = fit_forecasts(histories, origin=now, groups=groups) if histories else {}
    return HistoryLookup(fitted, histories, now)


@dataclass(frozen=True)
class _Activity:
    """What plans already under way tie up: truck → free from, machines still to be visited."""

    busy_until: dict[str, datetime]
    covered: set[str]


def _started(stored: StoredPlan, now: datetime) -> bool:
    return bool(stored.plan.trucks) and min(t.departs for t in stored.plan.trucks) <= now


def _activity(conn: Connection, tenant_id: str, now: datetime) -> _Activity:
    busy: dict[str, datetime] = {}
    covered: set[str] = set()
    for stored in latest_plans(conn, tenant_id=tenant_id, status="dispatched", limit=100):
        if not _started(stored, now):
            continue
        for truck in stored.plan.trucks:
            if truck.returns > now:
                busy[truck.truck_id] = max(truck.returns, busy.get(truck.truck_id, truck.returns))
            covered |= {stop.machine_id for stop in truck.stops if stop.departs > now}
    return _Activity(busy, covered)


def _pending_stops(conn: Connection, tenant_id: str, now: datetime) -> set[str]:
    """Machines with a dispatched visit still ahead (or in progress)."""
    pending: set[str] = set()
    for stored in latest_plans(conn, tenant_id=tenant_id, status="dispatched", limit=100):
        for truck in stored.plan.trucks:
            pending |= {stop.machine_id for stop in truck.stops if stop.departs > now}
    return pending


def next_opportunity(conn: Connection, *, tenant_id: str, depot_id: str, now: datetime) -> datetime:
    """The start of the first shift after the current (or next) one of the depot's trucks; a day on without trucks."""
    zone = validate.timezone(get_depot(conn, tenant_id=tenant_id, depot_id=depot_id).timezone)
    starts = []
    for truck in list_trucks(conn, tenant_id=tenant_id, depot_id=depot_id):
        _, end = next_shift(truck, zone, now)
        starts.append(next_shift(truck, zone, end)[0])
    return min(starts, default=now + timedelta(days=1))


def _free_fleet(request: PlanRequest, activity: _Activity) -> PlanRequest:
    """Busy trucks start when they are back (dropped when that is after their shift); covered machines leave."""
    trucks = []
    for truck in request.trucks:
        back = activity.busy_until.get(truck.truck_id)
        if back is None:
            trucks.append(truck)
        elif back < truck.shift_end:
            trucks.append(replace(truck, shift_start=max(truck.shift_start, back)))
    machines = [m for m in request.machines if m.machine_id not in activity.covered]
    return replace(request, trucks=trucks, machines=machines)


def _request(
    conn: Connection, tenant_id: str, depot_id: str, now: datetime, forecasts: ForecastSource
) -> tuple[PlanRequest, _Activity]:
    request = build_plan_request(
        conn,
        tenant_id=tenant_id,
        now=now,
        forecaster=forecasts(conn, tenant_id, now, depot_id),
        next_opportunity=next_opportunity(conn, tenant_id=tenant_id, depot_id=depot_id, now=now),
        depot_id=depot_id,
    )
    activity = _activity(conn, tenant_id, now)
    return _free_fleet(request, activity), activity


def _store(conn: Connection, tenant_id: str, depot_id: str, plan: Plan, now: datetime) -> StoredPlan:
    """Supersede the depot's plans that have not started, then save ``plan`` as dispatched.

    Serialised per depot across processes (SQLite: the write lock; PostgreSQL: an advisory lock), so two
    dispatchers end with one dispatched plan for the shift: the later one supersedes the earlier."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"vending-dispatch:{depot_id}".encode()).digest()[:8], "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    for status in ("proposed", "dispatched"):
        for stored in latest_plans(conn, tenant_id=tenant_id, depot_id=depot_id, status=status, limit=100):
            if not _started(stored, now):
                set_plan_status(conn, tenant_id=tenant_id, plan_id=stored.id, status="superseded")
    plan_id = save_plan(conn, tenant_id=tenant_id, plan=plan, depot_id=depot_id, supersede=False)
    set_plan_status(conn, tenant_id=tenant_id, plan_id=plan_id, status="dispatched")
    return load_plan(conn, tenant_id=tenant_id, plan_id=plan_id)


def run_dispatch(
    engine: Engine,
    *,
    tenant_id: str,
    now: datetime,
    reason: str = "scheduled",
    seconds: float = 5.0,
    seed: int = 0,
    depot_id: str | None = None,
    forecasts: ForecastSource | None = None,
) -> list[StoredPlan]:
    """Plan every depot of the tenant (or one) for its current or next shift; returns the dispatched plans.

    A depot without machines that have a planogram is skipped. ``forecasts`` replaces the batch forecaster
    (tests, simulations with known demand)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    source = forecasts or fleet_forecaster
    with engine.connect() as conn, conn.begin():
        scope_to_tenant(conn, tenant_id)
        depots = [get_depot(conn, tenant_id=tenant_id, depot_id=depot_id)] if depot_id else []
        depots = depots or list_depots(conn, tenant_id=tenant_id)
    plans = []
    for depot in depots:
        with _LOCK:
            with engine.connect() as conn, conn.begin():
                scope_to_tenant(conn, tenant_id)
                request, activity = _request(conn, tenant_id, depot.id, now, source)
            if not request.machines:
                continue
            plan = make_plan(request, seconds=seconds, seed=seed)
            meta = {
                **plan.meta,
                "reason": reason,
                "depot_id": depot.id,
                "next_opportunity": request.next_opportunity.isoformat(),
                "busy_trucks": sorted(t for t in activity.busy_until if t in {x.truck_id for x in request.trucks}),
                "covered": sorted(activity.covered),
            }
            with write_transaction(engine) as conn:
                scope_to_tenant(conn, tenant_id)
                plans.append(_store(conn, tenant_id, depot.id, replace(plan, meta=meta), now))
    return plans


def calling_machines(conn: Connection, *, tenant_id: str, now: datetime) -> list[str]:
    """Machines asking for service now: an open sold-out or fault alert, or a column at/below its threshold
    (or with no known stock), that no dispatched plan is still on its way to. Only machines a depot serves
    and that have a planogram can call: nothing else can be planned."""
    pending = _pending_stops(conn, tenant_id, now)
    alerts = vending_alerts.c
    query = select(alerts.machine_id).where(
        alerts.tenant_id == tenant_id,
        alerts.resolved_at.is_(None),
        alerts.kind.in_(CALL_KINDS),
        alerts.opened_at <= now,
    )
    alerted = {row[0] for row in conn.execute(query) if row[0] is not None}
    calling = []
    for machine in list_machines(conn, tenant_id=tenant_id):
        if machine.depot_id is None or machine.id in pending:
            continue
        columns = [c for c in views.machine_stock(conn, tenant_id=tenant_id, machine_id=machine.id) if c.in_planogram]
        if columns and (machine.id in alerted or any(c.due for c in columns)):
            calling.append(machine.id)
    return sorted(calling)
