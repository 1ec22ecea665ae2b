"""``/v1/vending``: the fleet (depots, trucks, products, machines, planograms), fills, stock and alerts.

Admins and staff manage the fleet and read everything. Fills may also come from a device key (a driver's
handheld); a key bound to one device may only fill the machine that device belongs to. Everything is
the caller's tenant only: another tenant's object is 403, a missing one 404.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tradeoff.core.errors import Forbidden, InvalidInput
from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.http.deps import READERS, ConnDep, roles
from tradeoff.platform.tenancy import get_device
from tradeoff.vending import fleet, views
from tradeoff.vending.fills import FillLine, list_fills, record_fills

router = APIRouter(prefix="/v1/vending", tags=["vending"])
Reader = Annotated[Principal, roles(*READERS)]
Manager = Annotated[Principal, roles(*READERS)]
Filler = Annotated[Principal, roles(Role.ADMIN, Role.STAFF, Role.DEVICE)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DepotIn(_Body):
    name: str = Field(min_length=1, max_length=200)
    lat: float
    lon: float
    timezone: str = "UTC"


class DepotPatch(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    lat: float | None = None
    lon: float | None = None
    timezone: str | None = None


class TruckIn(_Body):
    depot_id: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    capacity_units: int | None = Field(default=None, ge=1)
    capacity_volume_l: float | None = Field(default=None, gt=0)
    shift_start: str = "06:00"
    shift_end: str = "14:00"


class TruckPatch(_Body):
    depot_id: str | None = Field(default=None, min_length=1, max_length=32)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    capacity_units: int | None = Field(default=None, ge=1)
    capacity_volume_l: float | None = Field(default=None, gt=0)
    shift_start: str | None = None
    shift_end: str | None = None


class ProductIn(_Body):
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    case_size: int = Field(default=1, ge=1)
    unit_volume_l: float | None = Field(default=None, gt=0)


class ProductPatch(_Body):
    sku: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    case_size: int | None = Field(default=None, ge=1)
    unit_volume_l: float | None = Field(default=None, gt=0)


OpeningHours = dict[str, list[list[str]]]


class MachineIn(_Body):
    name: str = Field(min_length=1, max_length=200)
    lat: float
    lon: float
    timezone: str = "UTC"
    dex_serial: str | None = Field(default=None, max_length=64)
    device_id: str | None = None
    site_id: str | None = None
    depot_id: str | None = None
    opening_hours: OpeningHours = Field(default_factory=dict)
    service_minutes: float = Field(default=10.0, ge=0)
    service_seconds_per_unit: float = Field(default=4.0, ge=0)
    max_celsius: float | None = None


class MachinePatch(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    lat: float | None = None
    lon: float | None = None
    timezone: str | None = None
    dex_serial: str | None = Field(default=None, max_length=64)
    device_id: str | None = None
    site_id: str | None = None
    depot_id: str | None = None
    opening_hours: OpeningHours | None = None
    service_minutes: float | None = Field(default=None, ge=0)
    service_seconds_per_unit: float | None = Field(default=None, ge=0)
    max_celsius: float | None = None


class ColumnIn(_Body):
    selection: str = Field(min_length=1, max_length=16)
    product: str = Field(min_length=1, max_length=64, description="product id or SKU")
    capacity: int = Field(ge=1)
    par: int | None = Field(default=None, ge=0)
    threshold_pct: float = Field(default=30.0, ge=0, le=100)


class PlanogramIn(_Body):
    columns: list[ColumnIn] = Field(max_length=500)


class FillLineIn(_Body):
    selection: str = Field(min_length=1, max_length=16)
    units: int | None = Field(default=None, ge=1)
    to_par: bool = False
    level: int | None = Field(default=None, ge=0)


class FillIn(_Body):
    lines: list[FillLineIn] = Field(default_factory=list, max_length=500)
    all_to_par: bool = Field(default=False, description="fill every planogram column to par")
    filled_at: AwareDatetime | None = None


class ResolveIn(_Body):
    ids: list[int] = Field(min_length=1, max_length=500, description="alert ids to close")


def _patch(body: BaseModel) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("body", "nothing to change")
    return changes


# -- depots ---------------------------------------------------------------------------------------------


@router.get("/depots")
def list_depots(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return {"depots": [asdict(d) for d in fleet.list_depots(conn, tenant_id=principal.tenant_id)]}


@router.post("/depots", status_code=status.HTTP_201_CREATED)
def create_depot(conn: ConnDep, principal: Manager, body: DepotIn) -> dict[str, Any]:
    return asdict(fleet.create_depot(conn, tenant_id=principal.tenant_id, **body.model_dump()))


@router.get("/depots/{depot_id}")
def get_depot(conn: ConnDep, principal: Reader, depot_id: str) -> dict[str, Any]:
    return asdict(fleet.get_depot(conn, tenant_id=principal.tenant_id, depot_id=depot_id))


@router.patch("/depots/{depot_id}")
def update_depot(conn: ConnDep, principal: Manager, depot_id: str, body: DepotPatch) -> dict[str, Any]:
    depot = fleet.update_depot(conn, tenant_id=principal.tenant_id, depot_id=depot_id, changes=_patch(body))
    return asdict(depot)


@router.delete("/depots/{depot_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_depot(conn: ConnDep, principal: Manager, depot_id: str) -> Response:
    fleet.delete_depot(conn, tenant_id=principal.tenant_id, depot_id=depot_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- trucks ---------------------------------------------------------------------------------------------


@router.get("/trucks")
def list_trucks(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return {"trucks": [asdict(t) for t in fleet.list_trucks(conn, tenant_id=principal.tenant_id)]}


@router.post("/trucks", status_code=status.HTTP_201_CREATED)
def create_truck(conn: ConnDep, principal: Manager, body: TruckIn) -> dict[str, Any]:
    return asdict(fleet.create_truck(conn, tenant_id=principal.tenant_id, **body.model_dump()))


@router.get("/trucks/{truck_id}")
def get_truck(conn: ConnDep, principal: Reader, truck_id: str) -> dict[str, Any]:
    return asdict(fleet.get_truck(conn, tenant_id=principal.tenant_id, truck_id=truck_id))


@router.patch("/trucks/{truck_id}")
def update_truck(conn: ConnDep, principal: Manager, truck_id: str, body: TruckPatch) -> dict[str, Any]:
    return asdict(fleet.update_truck(conn, tenant_id=principal.tenant_id, truck_id=truck_id, changes=_patch(body)))


@router.delete("/trucks/{truck_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_truck(conn: ConnDep, principal: Manager, truck_id: str) -> Response:
    fleet.delete_truck(conn, tenant_id=principal.tenant_id, truck_id=truck_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- products -------------------------------------------------------------------------------------------


@router.get("/products")
def list_products(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return {"products": [asdict(p) for p in fleet.list_products(conn, tenant_id=principal.tenant_id)]}


@router.post("/products", status_code=status.HTTP_201_CREATED)
def create_product(conn: ConnDep, principal: Manager, body: ProductIn) -> dict[str, Any]:
    return asdict(fleet.create_product(conn, tenant_id=principal.tenant_id, **body.model_dump()))


@router.get("/products/{product_id}")
def get_product(conn: ConnDep, principal: Reader, product_id: str) -> dict[str, Any]:
    return asdict(fleet.get_product(conn, tenant_id=principal.tenant_id, product_id=product_id))


@router.patch("/products/{product_id}")
def update_product(conn: ConnDep, principal: Manager, product_id: str, body: ProductPatch) -> dict[str, Any]:
    changes = _patch(body)
    return asdict(fleet.update_product(conn, tenant_id=principal.tenant_id, product_id=product_id, changes=changes))


@router.delete("/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_product(conn: ConnDep, principal: Manager, product_id: str) -> Response:
    fleet.delete_product(conn, tenant_id=principal.tenant_id, product_id=product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- machines -------------------------------------------------------------------------------------------


@router.get("/machines")
def list_machines(conn: ConnDep, principal: Reader) -> dict[str, Any]:
    return {"machines": [asdict(m) for m in fleet.list_machines(conn, tenant_id=principal.tenant_id)]}


@router.post("/machines", status_code=status.HTTP_201_CREATED)
def create_machine(conn: ConnDep, principal: Manager, body: MachineIn) -> dict[str, Any]:
    return asdict(fleet.create_machine(conn, tenant_id=principal.tenant_id, **body.model_dump()))


@router.get("/machines/{machine_id}")
def get_machine(conn: ConnDep, principal: Reader, machine_id: str) -> dict[str, Any]:
    return asdict(fleet.get_machine(conn, tenant_id=principal.tenant_id, machine_id=machine_id))


@router.patch("/machines/{machine_id}")
def update_machine(conn: ConnDep, principal: Manager, machine_id: str, body: MachinePatch) -> dict[str, Any]:
    changes = _patch(body)
    return asdict(fleet.update_machine(conn, tenant_id=principal.tenant_id, machine_id=machine_id, changes=changes))


@router.delete("/machines/{machine_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_machine(conn: ConnDep, principal: Manager, machine_id: str) -> Response:
    fleet.delete_machine(conn, tenant_id=principal.tenant_id, machine_id=machine_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/machines/{machine_id}/planogram")
def get_planogram(conn: ConnDep, principal: Reader, machine_id: str) -> dict[str, Any]:
    columns = fleet.get_planogram(conn, tenant_id=principal.tenant_id, machine_id=machine_id)
    return {"machine_id": machine_id, "columns": [asdict(c) for c in columns]}


@router.put("/machines/{machine_id}/planogram", summary="Replace the machine's planogram")
def put_planogram(conn: ConnDep, principal: Manager, machine_id: str, body: PlanogramIn) -> dict[str, Any]:
    specs = [fleet.ColumnSpec(**c.model_dump()) for c in body.columns]
    columns = fleet.set_planogram(conn, tenant_id=principal.tenant_id, machine_id=machine_id, columns=specs)
    return {"machine_id": machine_id, "columns": [asdict(c) for c in columns]}


# -- fills, stock, alerts -------------------------------------------------------------------------------


def _recorder(conn: ConnDep, principal: Principal, machine: fleet.Machine) -> str:
    """Who recorded a fill, as an id (no names); a device-bound key fills only its own machine."""
    if principal.role is Role.DEVICE and principal.device_external_id is not None:
        own = machine.device_id is not None and (
            get_device(conn, tenant_id=principal.tenant_id, device_id=machine.device_id).external_id
            == principal.device_external_id
        )
        if not own:
            raise Forbidden("this device key may only record fills for the machine it is bound to")
    if principal.key_id is not None:
        return f"key:{principal.key_id}"
    return f"user:{principal.username or 'unknown'}"


@router.post("/machines/{machine_id}/fills", status_code=status.HTTP_201_CREATED, summary="Record a visit's fills")
def post_fills(conn: ConnDep, principal: Filler, machine_id: str, body: FillIn) -> dict[str, Any]:
    machine = fleet.get_machine(conn, tenant_id=principal.tenant_id, machine_id=machine_id)
    recorded_by = _recorder(conn, principal, machine)
    lines = [FillLine(**line.model_dump()) for line in body.lines]
    if body.all_to_par:
        if lines:
            raise InvalidInput("all_to_par", "give either lines or all_to_par, not both")
        planogram = fleet.get_planogram(conn, tenant_id=principal.tenant_id, machine_id=machine_id)
        lines = [FillLine(selection=c.selection, to_par=True) for c in planogram]
    fills = record_fills(
        conn,
        tenant_id=principal.tenant_id,
        machine_id=machine_id,
        lines=lines,
        recorded_by=recorded_by,
        filled_at=body.filled_at,
        source="api",
    )
    return {"fills": [asdict(f) for f in fills]}


@router.get("/machines/{machine_id}/fills")
def get_fills(conn: ConnDep, principal: Reader, machine_id: str, limit: Limit = 100) -> dict[str, Any]:
    fills = list_fills(conn, tenant_id=principal.tenant_id, machine_id=machine_id, limit=limit)
    return {"fills": [asdict(f) for f in fills]}


@router.get("/machines/{machine_id}/stock", summary="On-hand per column, sold-out and due flags, machine state")
def get_stock(conn: ConnDep, principal: Reader, machine_id: str) -> dict[str, Any]:
    columns = views.machine_stock(conn, tenant_id=principal.tenant_id, machine_id=machine_id)
    state = views.machine_state(conn, tenant_id=principal.tenant_id, machine_id=machine_id)
    return {"machine_id": machine_id, "state": state, "columns": [asdict(c) for c in columns]}


@router.get("/machines/{machine_id}/audits", summary="Applied, duplicate and out-of-order audits, newest first")
def get_audits(conn: ConnDep, principal: Reader, machine_id: str, limit: Limit = 50) -> dict[str, Any]:
    return {"audits": views.list_audits(conn, tenant_id=principal.tenant_id, machine_id=machine_id, limit=limit)}


@router.get("/columns", summary="Every machine's columns, optionally only sold-out or due ones")
def list_columns(
    conn: ConnDep,
    principal: Reader,
    sold_out: bool | None = None,
    due: bool | None = None,
) -> dict[str, Any]:
    out = []
    for machine in fleet.list_machines(conn, tenant_id=principal.tenant_id):
        for column in views.machine_stock(conn, tenant_id=principal.tenant_id, machine_id=machine.id):
            if (sold_out is None or column.sold_out == sold_out) and (due is None or column.due == due):
                out.append({"machine_id": machine.id, "machine_name": machine.name, **asdict(column)})
    return {"columns": out}


@router.get("/alerts", summary="Open alerts: sold-out, reconciliation, faults, counter resets, temperature")
def list_alerts(
    conn: ConnDep,
    principal: Reader,
    kind: str | None = None,
    machine_id: str | None = None,
    include_resolved: bool = False,
    limit: Limit = 200,
) -> dict[str, Any]:
    alerts = views.list_alerts(
        conn,
        tenant_id=principal.tenant_id,
        machine_id=machine_id,
        kind=kind,
        include_resolved=include_resolved,
        limit=limit,
    )
    return {"alerts": [asdict(a) for a in alerts]}


@router.post("/alerts/resolve", summary="Close alerts by hand (e.g. a reconciliation mismatch that was checked)")
def resolve_alerts(conn: ConnDep, principal: Manager, body: ResolveIn) -> dict[str, Any]:
    alerts = views.resolve_alerts(conn, tenant_id=principal.tenant_id, ids=body.ids)
    return {"alerts": [asdict(a) for a in alerts]}
