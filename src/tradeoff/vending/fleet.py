"""Fleet services: depots, trucks, products, machines and planograms, each scoped to one tenant.

Every function takes the tenant it works for; another tenant's object is ``Forbidden``, a missing one
``NotFound``. Updates re-check the whole object, so a partial change can never leave it invalid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import Conflict, InvalidInput, NotFound
from tradeoff.core.ids import new_id
from tradeoff.platform import tenancy
from tradeoff.vending import records, validate
from tradeoff.vending.store import (
    vending_machines,
    vending_planogram_columns,
    vending_products,
)


@dataclass(frozen=True, slots=True)
class Depot:
    id: str
    tenant_id: str
    name: str
    lat: float
    lon: float
    timezone: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Truck:
    id: str
    tenant_id: str
    depot_id: str
    name: str
    capacity_units: int | None
    capacity_volume_l: float | None
    shift_start: str
    shift_end: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    tenant_id: str
    sku: str
    name: str
    case_size: int
    unit_volume_l: float | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Machine:
    id: str
    tenant_id: str
    name: str
    dex_serial: str | None
    device_id: str | None
    site_id: str | None
    depot_id: str | None
    lat: float
    lon: float
    timezone: str
    opening_hours: dict[str, list[list[str]]]
    service_minutes: float
    service_seconds_per_unit: float
    max_celsius: float | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PlanogramColumn:
    machine_id: str
    selection: str
    tenant_id: str
    product_id: str
    capacity: int
    par: int
    threshold_pct: float
    updated_at: datetime


FIXED = frozenset({"id", "tenant_id", "created_at"})

# -- depots ---------------------------------------------------------------------------------------------


def _check_depot(depot: Depot) -> Depot:
    validate.coordinates(depot.lat, depot.lon)
    validate.timezone(depot.timezone)
    return dataclasses.replace(depot, name=validate.name("name", depot.name))


def create_depot(
    conn: Connection, *, tenant_id: str, name: str, lat: float, lon: float, timezone: str = "UTC"
) -> Depot:
    depot = _check_depot(Depot(new_id(), tenant_id, name, lat, lon, timezone, utcnow()))
    records.write(conn, "depot", depot, new=True)
    return depot


def get_depot(conn: Connection, *, tenant_id: str, depot_id: str) -> Depot:
    return records.get(conn, Depot, "depot", tenant_id=tenant_id, object_id=depot_id)


def list_depots(conn: Connection, *, tenant_id: str) -> list[Depot]:
    return records.list_of(conn, Depot, "depot", tenant_id=tenant_id)


def update_depot(conn: Connection, *, tenant_id: str, depot_id: str, changes: Mapping[str, Any]) -> Depot:
    depot = _check_depot(records.changed(get_depot(conn, tenant_id=tenant_id, depot_id=depot_id), changes, FIXED))
    records.write(conn, "depot", depot, new=False)
    return depot


def delete_depot(conn: Connection, *, tenant_id: str, depot_id: str) -> None:
    records.delete_one(conn, "depot", tenant_id=tenant_id, object_id=depot_id, cls=Depot)


# -- trucks ---------------------------------------------------------------------------------------------


def _check_truck(conn: Connection, truck: Truck) -> Truck:
    get_depot(conn, tenant_id=truck.tenant_id, depot_id=truck.depot_id)
    validate.positive("capacity_units", truck.capacity_units, allow_none=True)
    validate.positive("capacity_volume_l", truck.capacity_volume_l, allow_none=True)
    if truck.capacity_units is None and truck.capacity_volume_l is None:
        raise InvalidInput("capacity_units", "give a capacity in units, in litres (capacity_volume_l), or both")
    validate.clock("shift_start", truck.shift_start)
    validate.clock("shift_end", truck.shift_end)
    if truck.shift_start == truck.shift_end:
        raise InvalidInput("shift_end", "a shift cannot start and end at the same time")
    return dataclasses.replace(truck, name=validate.name("name", truck.name))


def create_truck(
    conn: Connection,
    *,
    tenant_id: str,
    depot_id: str,
    name: str,
    capacity_units: int | None = None,
    capacity_volume_l: float | None = None,
    shift_start: str = "06:00",
    shift_end: str = "14:00",
) -> Truck:
    truck = Truck(
        new_id(), tenant_id, depot_id, name, capacity_units, capacity_volume_l, shift_start, shift_end, utcnow()
    )
    truck = _check_truck(conn, truck)
    records.write(conn, "truck", truck, new=True)
    return truck


def get_truck(conn: Connection, *, tenant_id: str, truck_id: str) -> Truck:
    return records.get(conn, Truck, "truck", tenant_id=tenant_id, object_id=truck_id)


def list_trucks(conn: Connection, *, tenant_id: str, depot_id: str | None = None) -> list[Truck]:
    trucks = records.list_of(conn, Truck, "truck", tenant_id=tenant_id)
    return [t for t in trucks if depot_id is None or t.depot_id == depot_id]


def update_truck(conn: Connection, *, tenant_id: str, truck_id: str, changes: Mapping[str, Any]) -> Truck:
    truck = records.changed(get_truck(conn, tenant_id=tenant_id, truck_id=truck_id), changes, FIXED)
    truck = _check_truck(conn, truck)
    records.write(conn, "truck", truck, new=False)
    return truck


def delete_truck(conn: Connection, *, tenant_id: str, truck_id: str) -> None:
    records.delete_one(conn, "truck", tenant_id=tenant_id, object_id=truck_id, cls=Truck)


# -- products -------------------------------------------------------------------------------------------


def _check_product(product: Product) -> Product:
    sku = validate.name("sku", product.sku, 64)
    validate.positive("case_size", product.case_size)
    validate.positive("unit_volume_l", product.unit_volume_l, allow_none=True)
    return dataclasses.replace(product, sku=sku, name=validate.name("name", product.name))


def create_product(
    conn: Connection,
    *,
    tenant_id: str,
    sku: str,
    name: str,
    case_size: int = 1,
    unit_volume_l: float | None = None,
) -> Product:
    product = _check_product(Product(new_id(), tenant_id, sku, name, case_size, unit_volume_l, utcnow()))
    records.write(conn, "product", product, new=True)
    return product


def get_product(conn: Connection, *, tenant_id: str, product_id: str) -> Product:
    return records.get(conn, Product, "product", tenant_id=tenant_id, object_id=product_id)


def find_product(conn: Connection, *, tenant_id: str, ref: str) -> Product:
    """A product named by id or by SKU (files and the CLI use SKUs)."""
    row = conn.execute(
        select(vending_products).where(vending_products.c.tenant_id == tenant_id, vending_products.c.sku == ref)
    ).first()
    if row is not None:
        return records.row_as(Product, row)
    return get_product(conn, tenant_id=tenant_id, product_id=ref)


def list_products(conn: Connection, *, tenant_id: str) -> list[Product]:
    return records.list_of(conn, Product, "product", tenant_id=tenant_id, order="sku")


def update_product(conn: Connection, *, tenant_id: str, product_id: str, changes: Mapping[str, Any]) -> Product:
    product = _check_product(
        records.changed(get_product(conn, tenant_id=tenant_id, product_id=product_id), changes, FIXED)
    )
    records.write(conn, "product", product, new=False)
    return product


def delete_product(conn: Connection, *, tenant_id: str, product_id: str) -> None:
    records.delete_one(conn, "product", tenant_id=tenant_id, object_id=product_id, cls=Product)


# -- machines -------------------------------------------------------------------------------------------


def _check_machine(conn: Connection, machine: Machine) -> Machine:
    validate.coordinates(machine.lat, machine.lon)
    validate.timezone(machine.timezone)
    validate.positive("service_minutes", machine.service_minutes, allow_zero=True)
    validate.positive("service_seconds_per_unit", machine.service_seconds_per_unit, allow_zero=True)
    if machine.device_id is not None:
        tenancy.get_device(conn, tenant_id=machine.tenant_id, device_id=machine.device_id)
    if machine.site_id is not None:
        tenancy.get_site(conn, tenant_id=machine.tenant_id, site_id=machine.site_id)
    if machine.depot_id is not None:
        get_depot(conn, tenant_id=machine.tenant_id, depot_id=machine.depot_id)
    serial = machine.dex_serial.strip() if machine.dex_serial is not None else None
    if serial is not None and not 1 <= len(serial) <= 64:
        raise InvalidInput("dex_serial", "1-64 characters (the ID1 serial the machine's DEX audits carry)")
    return dataclasses.replace(
        machine,
        name=validate.name("name", machine.name),
        dex_serial=serial,
        opening_hours=validate.opening_hours(machine.opening_hours),
    )


def create_machine(
    conn: Connection,
    *,
    tenant_id: str,
    name: str,
    lat: float,
    lon: float,
    timezone: str = "UTC",
    dex_serial: str | None = None,
    device_id: str | None = None,
    site_id: str | None = None,
    depot_id: str | None = None,
    opening_hours: Mapping[str, Any] | None = None,
    service_minutes: float = 10.0,
    service_seconds_per_unit: float = 4.0,
    max_celsius: float | None = None,
) -> Machine:
    machine = Machine(
        new_id(),
        tenant_id,
        name,
        dex_serial,
        device_id,
        site_id,
        depot_id,
        lat,
        lon,
        timezone,
        dict(opening_hours or {}),
        service_minutes,
        service_seconds_per_unit,
        max_celsius,
        utcnow(),
    )
    machine = _check_machine(conn, machine)
    records.write(conn, "machine", machine, new=True)
    return machine


def get_machine(conn: Connection, *, tenant_id: str, machine_id: str) -> Machine:
    return records.get(conn, Machine, "machine", tenant_id=tenant_id, object_id=machine_id)


def find_machine(conn: Connection, *, tenant_id: str, ref: str) -> Machine:
    """A machine named by id, name or DEX serial (the CLI accepts any)."""
    table = vending_machines
    row = conn.execute(
        select(table).where(table.c.tenant_id == tenant_id, (table.c.name == ref) | (table.c.dex_serial == ref))
    ).first()
    if row is not None:
        return records.row_as(Machine, row)
    return get_machine(conn, tenant_id=tenant_id, machine_id=ref)


def list_machines(conn: Connection, *, tenant_id: str, depot_id: str | None = None) -> list[Machine]:
    machines = records.list_of(conn, Machine, "machine", tenant_id=tenant_id)
    return [m for m in machines if depot_id is None or m.depot_id == depot_id]


def update_machine(conn: Connection, *, tenant_id: str, machine_id: str, changes: Mapping[str, Any]) -> Machine:
    machine = records.changed(get_machine(conn, tenant_id=tenant_id, machine_id=machine_id), changes, FIXED)
    machine = _check_machine(conn, machine)
    records.write(conn, "machine", machine, new=False)
    return machine


def delete_machine(conn: Connection, *, tenant_id: str, machine_id: str) -> None:
    """Delete a machine and its planogram; one with stock, fills or sales history is a ``Conflict``."""
    get_machine(conn, tenant_id=tenant_id, machine_id=machine_id)
    try:
        with conn.begin_nested():
            conn.execute(delete(vending_planogram_columns).where(vending_planogram_columns.c.machine_id == machine_id))
            conn.execute(delete(vending_machines).where(vending_machines.c.id == machine_id))
    except IntegrityError as exc:
        raise Conflict(f"machine {machine_id} has stock, fills or sales history; it cannot be deleted") from exc


# -- planograms -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    """One planogram line as given: the product by id or SKU."""

    selection: str
    product: str
    capacity: int
    par: int | None = None  # default: the capacity
    threshold_pct: float = 30.0


def set_planogram(
    conn: Connection, *, tenant_id: str, machine_id: str, columns: Sequence[ColumnSpec]
) -> list[PlanogramColumn]:
    """Replace a machine's planogram (columns not named are removed); all lines are checked first."""
    get_machine(conn, tenant_id=tenant_id, machine_id=machine_id)
    now = utcnow()
    rows: list[PlanogramColumn] = []
    seen: set[str] = set()
    for index, spec in enumerate(columns):
        where = f"columns[{index}]"
        selection = validate.selection(spec.selection)
        if selection in seen:
            raise InvalidInput(f"{where}.selection", f"selection {selection!r} appears twice")
        seen.add(selection)
        try:
            product = find_product(conn, tenant_id=tenant_id, ref=spec.product)
        except NotFound as exc:
            raise InvalidInput(f"{where}.product", f"no product with id or SKU {spec.product!r}") from exc
        par = spec.capacity if spec.par is None else spec.par
        if spec.capacity < 1:
            raise InvalidInput(f"{where}.capacity", f"must be at least 1; got {spec.capacity}")
        if not 0 <= par <= spec.capacity:
            raise InvalidInput(f"{where}.par", f"must be between 0 and the capacity {spec.capacity}; got {par}")
        if not 0 <= spec.threshold_pct <= 100:
            raise InvalidInput(f"{where}.threshold_pct", f"a percentage of par, 0-100; got {spec.threshold_pct}")
        rows.append(
            PlanogramColumn(machine_id, selection, tenant_id, product.id, spec.capacity, par, spec.threshold_pct, now)
        )
    conn.execute(delete(vending_planogram_columns).where(vending_planogram_columns.c.machine_id == machine_id))
    if rows:
        conn.execute(insert(vending_planogram_columns), [dataclasses.asdict(r) for r in rows])
    return rows


def get_planogram(conn: Connection, *, tenant_id: str, machine_id: str) -> list[PlanogramColumn]:
    get_machine(conn, tenant_id=tenant_id, machine_id=machine_id)
    query = (
        select(vending_planogram_columns)
        .where(vending_planogram_columns.c.machine_id == machine_id)
        .order_by(vending_planogram_columns.c.selection)
    )
    return [records.row_as(PlanogramColumn, row) for row in conn.execute(query)]
