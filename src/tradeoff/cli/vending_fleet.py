"""``tradeoff vending depots|trucks|products|machines|planogram …``, ``fill``, ``stock`` and ``alerts``.

Files (``import``, ``planogram set``) are CSV with a header row or a JSON list of objects; a file is
stored whole or not at all, and an error names the row and the field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.table import Table
from sqlalchemy import Connection

from tradeoff.cli.common import console, print_json, transaction
from tradeoff.core.errors import InvalidInput
from tradeoff.platform import tenancy
from tradeoff.vending import fleet, validate, views
from tradeoff.vending.fills import FillLine, record_fills

JSON = typer.Option(False, "--json", help="machine-readable output")
TENANT = typer.Option(..., "--tenant", help="tenant slug or id")
FILE = typer.Argument(..., exists=True, dir_okay=False, help="CSV with a header row, or a JSON list")

depots_app = typer.Typer(no_args_is_help=True, help="Depots trucks start from")
trucks_app = typer.Typer(no_args_is_help=True, help="Trucks: capacity and shift hours")
products_app = typer.Typer(no_args_is_help=True, help="Products and their case sizes")
machines_app = typer.Typer(no_args_is_help=True, help="Vending machines: location, hours, DEX serial")
planogram_app = typer.Typer(no_args_is_help=True, help="Which product each column holds, capacity and par")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``vending`` group."""
    app.add_typer(depots_app, name="depots")
    app.add_typer(trucks_app, name="trucks")
    app.add_typer(products_app, name="products")
    app.add_typer(machines_app, name="machines")
    app.add_typer(planogram_app, name="planogram")
    app.command("fill")(fill_command)
    app.command("stock")(stock_command)
    app.command("alerts")(alerts_command)


def _tenant_id(conn: Connection, ref: str) -> str:
    return tenancy.tenant_by_ref(conn, ref).id


def _show(rows: list[Any], columns: tuple[str, ...], as_json: bool) -> None:
    records = [asdict(r) for r in rows]
    if as_json:
        print_json(records)
        return
    table = Table(*columns)
    for record in records:
        table.add_row(*("" if record[c] is None else str(record[c]) for c in columns))
    console.print(table)


def read_records(path: Path) -> list[dict[str, Any]]:
    """A JSON list of objects, or CSV rows (empty cells dropped, so defaults apply)."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(str(path), f"not valid JSON: {exc}") from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise InvalidInput(str(path), "a JSON list of objects")
        return data
    return [
        {k.strip(): v.strip() for k, v in row.items() if k and v and v.strip()}
        for row in csv.DictReader(io.StringIO(text))
    ]


def _typed(record: dict[str, Any], where: str, **kinds: Callable[[Any], Any]) -> dict[str, Any]:
    """Convert the named fields (CSV gives strings); the error names the row and the field."""
    out = dict(record)
    for name, kind in kinds.items():
        if name in out and isinstance(out[name], str):
            try:
                out[name] = kind(out[name])
            except ValueError:
                raise InvalidInput(f"{where}.{name}", f"not a valid value: {out[name]!r}") from None
    return out


def _each(path: Path, create: Callable[[dict[str, Any], str], Any]) -> list[Any]:
    created = []
    for index, record in enumerate(read_records(path)):
        where = f"{path.name}[{index + 1}]"
        try:
            created.append(create(record, where))
        except TypeError as exc:
            raise InvalidInput(where, f"unexpected or missing field ({exc})") from None
    return created


# -- depots and trucks ----------------------------------------------------------------------------------


@depots_app.command("add")
def depots_add(
    name: str,
    lat: float = typer.Option(...),
    lon: float = typer.Option(...),
    timezone: str = typer.Option("UTC", help="IANA zone, e.g. Europe/Berlin"),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    with transaction() as conn:
        depot = fleet.create_depot(
            conn, tenant_id=_tenant_id(conn, tenant), name=name, lat=lat, lon=lon, timezone=timezone
        )
    _show([depot], ("name", "id", "lat", "lon", "timezone"), as_json)


@depots_app.command("list")
def depots_list(tenant: str = TENANT, as_json: bool = JSON) -> None:
    with transaction() as conn:
        found = fleet.list_depots(conn, tenant_id=_tenant_id(conn, tenant))
    _show(found, ("name", "id", "lat", "lon", "timezone"), as_json)


TRUCK_COLUMNS = ("name", "id", "depot_id", "capacity_units", "capacity_volume_l", "shift_start", "shift_end")


@trucks_app.command("add")
def trucks_add(
    name: str,
    depot: str = typer.Option(..., help="depot name or id"),
    capacity_units: int = typer.Option(None, help="units the truck carries"),
    capacity_volume_l: float = typer.Option(None, help="litres the truck carries"),
    shift_start: str = typer.Option("06:00", help="HH:MM, depot local time"),
    shift_end: str = typer.Option("14:00", help="HH:MM; before the start means the next day"),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)
        depot_id = _depot_id(conn, tenant_id, depot)
        truck = fleet.create_truck(
            conn,
            tenant_id=tenant_id,
            depot_id=depot_id,
            name=name,
            capacity_units=capacity_units,
            capacity_volume_l=capacity_volume_l,
            shift_start=shift_start,
            shift_end=shift_end,
        )
    _show([truck], TRUCK_COLUMNS, as_json)


def _depot_id(conn: Connection, tenant_id: str, ref: str) -> str:
    for depot in fleet.list_depots(conn, tenant_id=tenant_id):
        if ref in (depot.name, depot.id):
            return depot.id
    raise InvalidInput("depot", f"no depot named or with id {ref!r}")


@trucks_app.command("list")
def trucks_list(tenant: str = TENANT, as_json: bool = JSON) -> None:
    with transaction() as conn:
        found = fleet.list_trucks(conn, tenant_id=_tenant_id(conn, tenant))
    _show(found, TRUCK_COLUMNS, as_json)


# -- products -------------------------------------------------------------------------------------------

PRODUCT_COLUMNS = ("sku", "name", "case_size", "unit_volume_l", "id")


@products_app.command("add")
def products_add(
    sku: str,
    name: str = typer.Option(...),
    case_size: int = typer.Option(1),
    unit_volume_l: float = typer.Option(None),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)
        product = fleet.create_product(
            conn, tenant_id=tenant_id, sku=sku, name=name, case_size=case_size, unit_volume_l=unit_volume_l
        )
    _show([product], PRODUCT_COLUMNS, as_json)


@products_app.command("import")
def products_import(file: Path = FILE, tenant: str = TENANT, as_json: bool = JSON) -> None:
    """Columns: sku, name, case_size, unit_volume_l."""
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)

        def create(record: dict[str, Any], where: str) -> fleet.Product:
            values = _typed(record, where, case_size=int, unit_volume_l=float)
            return fleet.create_product(conn, tenant_id=tenant_id, **values)

        created = _each(file, create)
    _show(created, PRODUCT_COLUMNS, as_json)


@products_app.command("list")
def products_list(tenant: str = TENANT, as_json: bool = JSON) -> None:
    with transaction() as conn:
        found = fleet.list_products(conn, tenant_id=_tenant_id(conn, tenant))
    _show(found, PRODUCT_COLUMNS, as_json)


# -- machines and planograms ----------------------------------------------------------------------------

MACHINE_COLUMNS = ("name", "id", "dex_serial", "lat", "lon", "timezone", "depot_id")


@machines_app.command("import")
def machines_import(file: Path = FILE, tenant: str = TENANT, as_json: bool = JSON) -> None:
    """Columns: name, lat, lon, timezone, dex_serial, depot (name or id), device (external id),
    opening_hours (JSON), service_minutes, service_seconds_per_unit, max_celsius."""
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)
        devices = {d.external_id: d.id for d in tenancy.list_devices(conn, tenant_id=tenant_id)}

        def create(record: dict[str, Any], where: str) -> fleet.Machine:
            values = _typed(
                record,
                where,
                lat=float,
                lon=float,
                service_minutes=float,
                service_seconds_per_unit=float,
                max_celsius=float,
                opening_hours=orjson.loads,
            )
            if "depot" in values:
                values["depot_id"] = _depot_id(conn, tenant_id, str(values.pop("depot")))
            if "device" in values:
                device = str(values.pop("device"))
                if device not in devices:
                    raise InvalidInput(f"{where}.device", f"no device with external id {device!r}")
                values["device_id"] = devices[device]
            return fleet.create_machine(conn, tenant_id=tenant_id, **values)

        created = _each(file, create)
    _show(created, MACHINE_COLUMNS, as_json)


@machines_app.command("add")
def machines_add(
    name: str,
    lat: float = typer.Option(...),
    lon: float = typer.Option(...),
    timezone: str = typer.Option("UTC"),
    dex_serial: str = typer.Option(None, help="the ID1 serial its DEX audits carry"),
    depot: str = typer.Option(None, help="home depot name or id"),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)
        depot_id = _depot_id(conn, tenant_id, depot) if depot else None
        machine = fleet.create_machine(
            conn, tenant_id=tenant_id, name=name, lat=lat, lon=lon, timezone=timezone, dex_serial=dex_serial,
            depot_id=depot_id,
        )  # fmt: skip
    _show([machine], MACHINE_COLUMNS, as_json)


@machines_app.command("list")
def machines_list(tenant: str = TENANT, as_json: bool = JSON) -> None:
    with transaction() as conn:
        found = fleet.list_machines(conn, tenant_id=_tenant_id(conn, tenant))
    _show(found, MACHINE_COLUMNS, as_json)


PLANOGRAM_COLUMNS = ("selection", "product_id", "capacity", "par", "threshold_pct")


@planogram_app.command("set")
def planogram_set(machine: str, file: Path = FILE, tenant: str = TENANT, as_json: bool = JSON) -> None:
    """Replace MACHINE's planogram. Columns: selection, product (SKU or id), capacity, par, threshold_pct."""
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)
        target = fleet.find_machine(conn, tenant_id=tenant_id, ref=machine)

        def spec(record: dict[str, Any], where: str) -> fleet.ColumnSpec:
            values = _typed(record, where, capacity=int, par=int, threshold_pct=float)
            return fleet.ColumnSpec(**{**values, "selection": str(values.get("selection", ""))})

        specs = _each(file, spec)
        columns = fleet.set_planogram(conn, tenant_id=tenant_id, machine_id=target.id, columns=specs)
    _show(columns, PLANOGRAM_COLUMNS, as_json)


@planogram_app.command("show")
def planogram_show(machine: str, tenant: str = TENANT, as_json: bool = JSON) -> None:
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)
        target = fleet.find_machine(conn, tenant_id=tenant_id, ref=machine)
        columns = fleet.get_planogram(conn, tenant_id=tenant_id, machine_id=target.id)
    _show(columns, PLANOGRAM_COLUMNS, as_json)


# -- fills, stock, alerts -------------------------------------------------------------------------------


def fill_command(
    machine: str = typer.Argument(..., help="machine name, DEX serial or id"),
    selection: list[str] = typer.Option(None, "--selection", "-s", help="column(s) to fill"),
    units: int = typer.Option(None, help="units added to each column"),
    to_par: bool = typer.Option(False, "--to-par", help="fill the column(s) up to par"),
    level: int = typer.Option(None, help="the counted level after the fill"),
    all_to_par: bool = typer.Option(False, "--all-to-par", help="fill every planogram column to par"),
    at: str = typer.Option(None, help="when, ISO 8601 (without offset: the machine's local time); default now"),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Record a fill: ``tradeoff vending fill LOBBY --selection 12 --units 8`` (or ``--to-par``, ``--level``)."""
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)
        target = fleet.find_machine(conn, tenant_id=tenant_id, ref=machine)
        if all_to_par:
            if selection:
                raise InvalidInput("--all-to-par", "give either --selection or --all-to-par")
            columns = fleet.get_planogram(conn, tenant_id=tenant_id, machine_id=target.id)
            lines = [FillLine(selection=c.selection, to_par=True) for c in columns]
        else:
            lines = [FillLine(selection=s, units=units, to_par=to_par, level=level) for s in selection or []]
        filled_at = _when(at, target.timezone) if at is not None else None
        fills = record_fills(
            conn,
            tenant_id=tenant_id,
            machine_id=target.id,
            lines=lines,
            recorded_by="cli",
            filled_at=filled_at,
            source="cli",
        )
    _show(fills, ("selection", "units_added", "level_after", "filled_at"), as_json)


def _when(text: str, timezone: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("--at", f"an ISO 8601 time such as 2026-11-29T10:00; got {text!r}") from None
    return parsed.replace(tzinfo=validate.timezone(timezone)) if parsed.tzinfo is None else parsed


def stock_command(
    machine: str = typer.Argument(..., help="machine name, DEX serial or id"),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """On-hand per column, with sold-out and due (at or below threshold) marks."""
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)
        target = fleet.find_machine(conn, tenant_id=tenant_id, ref=machine)
        columns = views.machine_stock(conn, tenant_id=tenant_id, machine_id=target.id)
    if as_json:
        print_json([asdict(c) for c in columns])
        return
    table = Table("sel", "product", "on hand", "par", "threshold", "status", "flags")
    for c in columns:
        mark = "[red]SOLD OUT[/red]" if c.sold_out else ("[yellow]due[/yellow]" if c.due else "")
        on_hand = "?" if c.on_hand is None else str(c.on_hand)
        table.add_row(c.selection, c.product_sku or c.dex_product or "", on_hand, str(c.par or ""),
                      str(c.threshold if c.threshold is not None else ""), mark, ", ".join(c.flags))  # fmt: skip
    console.print(table)


def alerts_command(
    machine: str = typer.Option(None, help="only this machine (name, DEX serial or id)"),
    kind: str = typer.Option(None, help=", ".join(views.ALERT_KINDS)),
    tenant: str = TENANT,
    as_json: bool = JSON,
) -> None:
    """Open alerts: sold-out, reconciliation mismatches, faults, counter resets, temperature, unknown machines."""
    with transaction() as conn:
        tenant_id = _tenant_id(conn, tenant)
        machine_id = fleet.find_machine(conn, tenant_id=tenant_id, ref=machine).id if machine else None
        alerts = views.list_alerts(conn, tenant_id=tenant_id, machine_id=machine_id, kind=kind)
    _show(alerts, ("kind", "ref", "machine_id", "message", "opened_at"), as_json)
