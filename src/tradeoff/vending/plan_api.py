"""``/v1/vending/plans``: dispatched routes, pick lists and depot load lists; run dispatch now; complete a plan.

Admins and staff read and run dispatch (``at``, planning as of another time for simulations and backfills,
is admin only). A driver's handheld (device key) or staff completes a plan. Everything is the caller's
tenant only: another tenant's plan is 403, a missing one 404. The document builders are shared with the
CLI and the dashboard.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from tradeoff.core.errors import Forbidden
from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.http.deps import READERS, ConnDep, PlatformDep, roles
from tradeoff.vending import fleet
from tradeoff.vending.dispatch import run_dispatch
from tradeoff.vending.plan_store import StoredPlan, latest_plans, load_plan, set_plan_status

router = APIRouter(prefix="/v1/vending/plans", tags=["vending"])
Reader = Annotated[Principal, roles(*READERS)]
Finisher = Annotated[Principal, roles(Role.ADMIN, Role.STAFF, Role.DEVICE)]
CSV_COLUMNS = ("kind", "truck", "stop", "eta", "machine", "selection", "product", "name", "quantity")


@dataclass(frozen=True)
class Names:
    """Display names for a tenant's trucks, machines and products (ids stay the reference)."""

    trucks: dict[str, str]
    machines: dict[str, fleet.Machine]
    products: dict[str, str]  # SKU → name

    @classmethod
    def of(cls, conn: Connection, tenant_id: str) -> Names:
        return cls(
            trucks={t.id: t.name for t in fleet.list_trucks(conn, tenant_id=tenant_id)},
            machines={m.id: m for m in fleet.list_machines(conn, tenant_id=tenant_id)},
            products={p.sku: p.name for p in fleet.list_products(conn, tenant_id=tenant_id)},
        )

    def machine(self, machine_id: str) -> str | None:
        found = self.machines.get(machine_id)
        return None if found is None else found.name


def plan_document(stored: StoredPlan, names: Names) -> dict[str, Any]:
    """A stored plan as JSON: trucks with numbered stops, ETAs, picks and load list; deferred with reasons."""
    plan = stored.plan
    reasons = plan.meta.get("deferred_reasons", {})
    trucks = []
    for truck in plan.trucks:
        stops = []
        for number, stop in enumerate(truck.stops, 1):
            machine = names.machines.get(stop.machine_id)
            stops.append(
                {
                    "number": number,
                    "machine_id": stop.machine_id,
                    "machine_name": None if machine is None else machine.name,
                    "lat": None if machine is None else machine.lat,
                    "lon": None if machine is None else machine.lon,
                    "eta": stop.eta.isoformat(),
                    "departs": stop.departs.isoformat(),
                    "reason": stop.reason,
                    "units": sum(p.quantity for p in stop.picks),
                    "picks": [
                        {
                            "selection": p.selection,
                            "product": p.product,
                            "name": names.products.get(p.product),
                            "quantity": p.quantity,
                        }
                        for p in stop.picks
                    ],
                }
            )
        trucks.append(
            {
                "truck_id": truck.truck_id,
                "truck_name": names.trucks.get(truck.truck_id),
                "departs": truck.departs.isoformat(),
                "returns": truck.returns.isoformat(),
                "distance_m": truck.distance_m,
                "units": sum(truck.load.values()),
                "load": [
                    {"product": sku, "name": names.products.get(sku), "quantity": units}
                    for sku, units in sorted(truck.load.items())
                ],
                "stops": stops,
            }
        )
    return {
        "id": stored.id,
        "depot_id": stored.depot_id,
        "status": stored.status,
        "status_changed_at": stored.status_changed_at.isoformat(),
        "created_at": plan.created_at.isoformat(),
        "reason": plan.meta.get("reason"),
        "distance_m": sum(t.distance_m for t in plan.trucks),
        "trucks": trucks,
        "deferred": [
            {
                "machine_id": machine_id,
                "machine_name": names.machine(machine_id),
                "reason": reasons.get(machine_id) if isinstance(reasons, dict) else None,
            }
            for machine_id in plan.deferred
        ],
        "meta": plan.meta,
    }


def picklist_document(document: dict[str, Any]) -> dict[str, Any]:
    """What the driver needs: per truck the depot load list (the sum) and per stop what goes in which column."""
    return {
        "plan_id": document["id"],
        "status": document["status"],
        "created_at": document["created_at"],
        "trucks": [
            {
                "truck_id": truck["truck_id"],
                "truck_name": truck["truck_name"],
                "departs": truck["departs"],
                "load": truck["load"],
                "stops": [
                    {key: stop[key] for key in ("number", "machine_id", "machine_name", "eta", "picks")}
                    for stop in truck["stops"]
                ],
            }
            for truck in document["trucks"]
        ],
    }


def picklist_csv(document: dict[str, Any]) -> str:
    """One row per load line (``kind=load``) and per pick (``kind=pick``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for truck in document["trucks"]:
        name = truck["truck_name"] or truck["truck_id"]
        for line in truck["load"]:
            writer.writerow(
                ("load", name, "", truck["departs"], "", "", line["product"], line["name"] or "", line["quantity"])
            )
        for stop in truck["stops"]:
            machine = stop["machine_name"] or stop["machine_id"]
            for pick in stop["picks"]:
                row = ("pick", name, stop["number"], stop["eta"], machine, pick["selection"], pick["product"])
                writer.writerow((*row, pick["name"] or "", pick["quantity"]))
    return out.getvalue()


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    depot_id: str | None = Field(default=None, max_length=32, description="one depot; default: all")
    at: AwareDatetime | None = Field(default=None, description="plan as of this time (admin only; simulations)")
    seconds: float | None = Field(default=None, gt=0, le=120, description="routing seconds per pass")
    seed: int = Field(default=0, ge=0)


@router.get("", summary="Plans, newest first (filter by status and depot)")
def list_plans(
    conn: ConnDep,
    principal: Reader,
    status: Literal["proposed", "dispatched", "completed", "superseded"] | None = None,
    depot_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    if depot_id is not None:
        fleet.get_depot(conn, tenant_id=principal.tenant_id, depot_id=depot_id)
    found = latest_plans(conn, tenant_id=principal.tenant_id, depot_id=depot_id, status=status, limit=limit)
    names = Names.of(conn, principal.tenant_id)
    return {"plans": [plan_document(stored, names) for stored in found]}


@router.post("", status_code=status.HTTP_201_CREATED, summary="Run dispatch now (or as of `at`)")
def post_dispatch(platform: PlatformDep, principal: Reader, body: DispatchIn | None = None) -> dict[str, Any]:
    body = body or DispatchIn()
    if body.at is not None and principal.role is not Role.ADMIN:
        raise Forbidden("only an admin may plan as of another time")
    now = body.at or platform.pipeline.clock.now()
    seconds = body.seconds or platform.settings.vending_plan_seconds
    # Not the request's transaction: planning takes seconds and must not hold the write lock meanwhile.
    plans = run_dispatch(
        platform.engine,
        tenant_id=principal.tenant_id,
        now=now,
        reason="manual",
        seconds=seconds,
        seed=body.seed,
        depot_id=body.depot_id,
    )
    with platform.engine.connect() as conn:
        names = Names.of(conn, principal.tenant_id)
    return {"plans": [plan_document(stored, names) for stored in plans]}


@router.get("/{plan_id}", summary="One plan: stops with ETAs, picks, load lists, distance, deferred and why")
def get_plan(conn: ConnDep, principal: Reader, plan_id: str) -> dict[str, Any]:
    stored = load_plan(conn, tenant_id=principal.tenant_id, plan_id=plan_id)
    return plan_document(stored, Names.of(conn, principal.tenant_id))


@router.get("/{plan_id}/picklist", summary="Pick list per stop and depot load list per truck (?format=csv)")
def get_picklist(conn: ConnDep, principal: Reader, plan_id: str, format: Literal["json", "csv"] = "json") -> Response:
    stored = load_plan(conn, tenant_id=principal.tenant_id, plan_id=plan_id)
    document = plan_document(stored, Names.of(conn, principal.tenant_id))
    if format == "csv":
        headers = {"Content-Disposition": f'attachment; filename="picklist-{plan_id}.csv"'}
        return Response(picklist_csv(document), media_type="text/csv; charset=utf-8", headers=headers)
    return JSONResponse(picklist_document(document))


@router.post("/{plan_id}/complete", summary="The route is done (driver's handheld or staff)")
def complete_plan(conn: ConnDep, principal: Finisher, plan_id: str) -> dict[str, Any]:
    stored = set_plan_status(conn, tenant_id=principal.tenant_id, plan_id=plan_id, status="completed")
    return plan_document(stored, Names.of(conn, principal.tenant_id))
