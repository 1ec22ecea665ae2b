"""Dispatch plans, stored: ``Plan`` → rows and back, with a status the dispatch service moves along.

Status: ``proposed`` → ``dispatched`` → ``completed``; a proposed or dispatched plan can be
``superseded``. Saving a new plan supersedes the tenant's (depot's) older proposed ones by default.
``build_plan_request`` (the other direction: fleet → planning) lives in ``plan_request`` and is
re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tradeoff.core.ids import new_id
from tradeoff.vending.fleet import get_depot, get_machine, get_truck
from tradeoff.vending.plan_request import Forecaster, build_plan_request, daily_history
from tradeoff.vending.planning.model import Pick, Plan, PlannedStop, TruckPlan
from tradeoff.vending.store import vending_plan_picks, vending_plan_stops, vending_plan_trucks, vending_plans

__all__ = [
    "STATUSES",
    "Forecaster",
    "StoredPlan",
    "build_plan_request",
    "daily_history",
    "latest_plans",
    "load_plan",
    "save_plan",
    "set_plan_status",
]

STATUSES = ("proposed", "dispatched", "completed", "superseded")
NEXT = {
    "proposed": {"dispatched", "superseded"},
    "dispatched": {"completed", "superseded"},
    "completed": set(),
    "superseded": set(),
}
REASONS = ("due", "called", "joined")


@dataclass(frozen=True)
class StoredPlan:
    id: str
    tenant_id: str
    depot_id: str | None
    status: str
    status_changed_at: datetime
    plan: Plan


def _json_safe(value: object) -> Any:
    """Plan meta may hold anything a planner found useful; stored as JSON (other values as strings)."""
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


def _check(conn: Connection, tenant_id: str, plan: Plan) -> None:
    """Every truck and machine must be the tenant's; quantities whole and not negative."""
    for t_index, truck in enumerate(plan.trucks):
        get_truck(conn, tenant_id=tenant_id, truck_id=truck.truck_id)
        for product, units in truck.load.items():
            if isinstance(units, bool) or not isinstance(units, int) or units < 0:
                raise InvalidInput(f"trucks[{t_index}].load.{product}", f"a whole number of units; got {units!r}")
        for s_index, stop in enumerate(truck.stops):
            get_machine(conn, tenant_id=tenant_id, machine_id=stop.machine_id)
            if stop.reason not in REASONS:
                raise InvalidInput(f"trucks[{t_index}].stops[{s_index}].reason", f"one of {', '.join(REASONS)}")
            for p_index, pick in enumerate(stop.picks):
                if pick.quantity < 0:
                    where = f"trucks[{t_index}].stops[{s_index}].picks[{p_index}].quantity"
                    raise InvalidInput(where, f"not negative; got {pick.quantity}")


def save_plan(
    conn: Connection, *, tenant_id: str, plan: Plan, depot_id: str | None = None, supersede: bool = True
) -> str:
    """Store a plan as ``proposed``; returns its id."""
    if depot_id is not None:
        get_depot(conn, tenant_id=tenant_id, depot_id=depot_id)
    _check(conn, tenant_id, plan)
    now = utcnow()
    if supersede:
        older = vending_plans.c.depot_id.is_(None) if depot_id is None else vending_plans.c.depot_id == depot_id
        conn.execute(
            update(vending_plans)
            .where(vending_plans.c.tenant_id == tenant_id, older, vending_plans.c.status == "proposed")
            .values(status="superseded", status_changed_at=now)
        )
    plan_id = new_id()
    conn.execute(
        insert(vending_plans).values(
            id=plan_id,
            tenant_id=tenant_id,
            depot_id=depot_id,
            status="proposed",
            created_at=plan.created_at,
            status_changed_at=now,
            deferred=list(plan.deferred),
            meta=_json_safe(plan.meta),
        )
    )
    trucks, stops, picks = [], [], []
    for t_index, truck in enumerate(plan.trucks):
        trucks.append(
            {
                "plan_id": plan_id,
                "truck_index": t_index,
                "tenant_id": tenant_id,
                "truck_id": truck.truck_id,
                "load": dict(truck.load),
                "distance_m": truck.distance_m,
                "departs": truck.departs,
                "returns": truck.returns,
            }
        )
        for s_index, stop in enumerate(truck.stops):
            key = {"plan_id": plan_id, "truck_index": t_index, "stop_index": s_index, "tenant_id": tenant_id}
            stops.append(
                {**key, "machine_id": stop.machine_id, "eta": stop.eta, "departs": stop.departs, "reason": stop.reason}
            )
            picks += [
                {**key, "pick_index": p_index, "selection": p.selection, "product": p.product, "quantity": p.quantity}
                for p_index, p in enumerate(stop.picks)
            ]
    for table, rows in ((vending_plan_trucks, trucks), (vending_plan_stops, stops), (vending_plan_picks, picks)):
        if rows:
            conn.execute(insert(table), rows)
    return plan_id


def _read(conn: Connection, row: Any) -> StoredPlan:
    plan_id = row.id
    picks: dict[tuple[int, int], list[Pick]] = {}
    query = select(vending_plan_picks).where(vending_plan_picks.c.plan_id == plan_id)
    for p in conn.execute(query.order_by(vending_plan_picks.c.pick_index)):
        picks.setdefault((p.truck_index, p.stop_index), []).append(Pick(p.selection, p.product, p.quantity))
    stops: dict[int, list[PlannedStop]] = {}
    query = select(vending_plan_stops).where(vending_plan_stops.c.plan_id == plan_id)
    for s in conn.execute(query.order_by(vending_plan_stops.c.truck_index, vending_plan_stops.c.stop_index)):
        stop = PlannedStop(
            s.machine_id, s.eta, s.departs, s.reason, tuple(picks.get((s.truck_index, s.stop_index), []))
        )
        stops.setdefault(s.truck_index, []).append(stop)
    query = select(vending_plan_trucks).where(vending_plan_trucks.c.plan_id == plan_id)
    trucks = tuple(
        TruckPlan(t.truck_id, tuple(stops.get(t.truck_index, [])), dict(t.load), t.distance_m, t.departs, t.returns)
        for t in conn.execute(query.order_by(vending_plan_trucks.c.truck_index))
    )
    plan = Plan(created_at=row.created_at, trucks=trucks, deferred=tuple(row.deferred), meta=dict(row.meta))
    return StoredPlan(row.id, row.tenant_id, row.depot_id, row.status, row.status_changed_at, plan)


def load_plan(conn: Connection, *, tenant_id: str, plan_id: str) -> StoredPlan:
    row = conn.execute(select(vending_plans).where(vending_plans.c.id == plan_id)).first()
    if row is None:
        raise NotFound(f"plan {plan_id} not found")
    if row.tenant_id != tenant_id:
        raise Forbidden(f"plan {plan_id} belongs to another tenant")
    return _read(conn, row)


def latest_plans(
    conn: Connection,
    *,
    tenant_id: str,
    depot_id: str | None = None,
    status: str | None = None,
    limit: int = 10,
) -> list[StoredPlan]:
    """Newest first; optionally one depot's and in one status."""
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", f"one of {', '.join(STATUSES)}")
    query = select(vending_plans).where(vending_plans.c.tenant_id == tenant_id)
    if depot_id is not None:
        query = query.where(vending_plans.c.depot_id == depot_id)
    if status is not None:
        query = query.where(vending_plans.c.status == status)
    query = query.order_by(vending_plans.c.created_at.desc(), vending_plans.c.id.desc()).limit(max(1, min(limit, 100)))
    return [_read(conn, row) for row in conn.execute(query).all()]


def set_plan_status(conn: Connection, *, tenant_id: str, plan_id: str, status: str) -> StoredPlan:
    """Move a plan along its life cycle; a move it cannot make is a ``Conflict``."""
    if status not in STATUSES:
        raise InvalidInput("status", f"one of {', '.join(STATUSES)}")
    current = load_plan(conn, tenant_id=tenant_id, plan_id=plan_id)
    if status not in NEXT[current.status]:
        raise Conflict(f"plan {plan_id} is {current.status}; it cannot become {status}")
    result = conn.execute(
        update(vending_plans)
        .where(vending_plans.c.id == plan_id, vending_plans.c.status == current.status)
        .values(status=status, status_changed_at=utcnow())
    )
    if result.rowcount != 1:
        raise Conflict(f"plan {plan_id} changed status meanwhile")
    return load_plan(conn, tenant_id=tenant_id, plan_id=plan_id)
