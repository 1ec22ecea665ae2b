"""Write the simulated fleet through the fleet services, and read back where the platform left it.

Idempotent: the tenant, depot, trucks, products, machines and planograms are reused by name/SKU, so a
second ``tradeoff demo`` adds nothing. The physical machines then *resume* from what the platform last
knew (on-hand and DEX counters of the latest applied audit), so counters never go backwards and the stock
the simulator sells from is the stock the planner sees. Columns without a level get one opening fill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, select

from tradeoff.sim.seed import DEMO_PASSWORD, Credentials, seed_world
from tradeoff.vending import fleet
from tradeoff.vending.fills import FillLine, record_fills
from tradeoff.vending.projections import load_columns
from tradeoff.vending.sim_fleet import FLEET_USERNAME, FleetSpec, fleet_world
from tradeoff.vending.store import vending_audits
from tradeoff.vending.views import machine_stock


@dataclass(frozen=True, slots=True)
class ColumnResume:
    stock: int
    vends_total: int
    value_total: int


@dataclass(frozen=True, slots=True)
class MachineResume:
    """Where one physical machine starts: stock and DEX meters per column, its EA3 read count."""

    columns: Mapping[str, ColumnResume]
    read_counter: int = 0
    last_read_at: datetime | None = None
    seen_at: datetime | None = None  # the platform's latest audit or fill of this machine


@dataclass(frozen=True, slots=True)
class FleetSeed:
    credentials: Credentials
    machine_ids: Mapping[str, str]  # serial -> platform machine id
    resume: Mapping[str, MachineResume] = field(default_factory=dict)  # serial -> state

    @property
    def resume_at(self) -> datetime | None:
        """The platform's latest audit or fill: a new run must start after it (audits only move forward)."""
        times = [r.seen_at for r in self.resume.values() if r.seen_at is not None]
        return max(times) if times else None


def seed_fleet(conn: Connection, spec: FleetSpec, *, admin_key: bool = True) -> FleetSeed:
    """Create or reuse the operator and its fleet (no fills); the state is read by ``resume_fleet``."""
    credentials = seed_world(
        conn, fleet_world(spec), username=FLEET_USERNAME, password=DEMO_PASSWORD, admin_key=admin_key
    )
    tenant = credentials.tenant_id
    depots = {d.name: d for d in fleet.list_depots(conn, tenant_id=tenant)}
    depot = depots.get(spec.depot_name) or fleet.create_depot(
        conn, tenant_id=tenant, name=spec.depot_name, lat=spec.depot[0], lon=spec.depot[1], timezone="UTC"
    )
    trucks = {t.name for t in fleet.list_trucks(conn, tenant_id=tenant)}
    for truck in spec.trucks:
        if truck.name not in trucks:
            fleet.create_truck(
                conn, tenant_id=tenant, depot_id=depot.id, name=truck.name, capacity_units=truck.capacity_units,
                shift_start=truck.shift_start, shift_end=truck.shift_end,
            )  # fmt: skip
    products = {p.sku: p for p in fleet.list_products(conn, tenant_id=tenant)}
    for sku, case_size in spec.products.items():
        if sku not in products:
            name = sku.replace("-", " ").title()
            products[sku] = fleet.create_product(conn, tenant_id=tenant, sku=sku, name=name, case_size=case_size)
    devices = _device_ids(conn, tenant)
    machines = {m.dex_serial: m for m in fleet.list_machines(conn, tenant_id=tenant)}
    ids: dict[str, str] = {}
    for spec_m in spec.machines:
        machine = machines.get(spec_m.serial)
        if machine is None:
            machine = fleet.create_machine(
                conn, tenant_id=tenant, name=spec_m.name, lat=spec_m.lat, lon=spec_m.lon, timezone="UTC",
                dex_serial=spec_m.serial, device_id=devices[spec_m.device], depot_id=depot.id,
                opening_hours=spec_m.opening_hours, service_minutes=8.0, service_seconds_per_unit=4.0,
            )  # fmt: skip
            columns = [
                fleet.ColumnSpec(c.selection, products[c.sku].id, c.capacity, c.par, c.threshold_pct)
                for c in spec_m.columns
            ]
            fleet.set_planogram(conn, tenant_id=tenant, machine_id=machine.id, columns=columns)
        ids[spec_m.serial] = machine.id
    return FleetSeed(
        credentials=credentials, machine_ids=ids, resume=resume_fleet(conn, spec, seed_ids=ids, tenant_id=tenant)
    )


def resume_fleet(
    conn: Connection, spec: FleetSpec, *, seed_ids: Mapping[str, str], tenant_id: str
) -> dict[str, MachineResume]:
    """Per machine with any level or audit: on-hand and meters as the platform has them now."""
    out: dict[str, MachineResume] = {}
    for machine in spec.machines:
        machine_id = seed_ids[machine.serial]
        rows = load_columns(conn, machine_id)
        views = {v.selection: v for v in machine_stock(conn, tenant_id=tenant_id, machine_id=machine_id)}
        if not any(v.on_hand is not None for v in views.values()):
            continue
        columns: dict[str, ColumnResume] = {}
        read_at = [r.counters_at for r in rows.values() if r.counters_at is not None]
        seen = read_at + [r.level_at for r in rows.values() if r.level_at is not None]
        for column in machine.columns:
            view, row = views.get(column.selection), rows.get(column.selection)
            counters = row.counters if row is not None else None
            columns[column.selection] = ColumnResume(
                stock=max(0, view.on_hand or 0) if view is not None else 0,
                vends_total=(counters.vends_total or 0) if counters is not None else 0,
                value_total=(counters.value_total or 0) if counters is not None else 0,
            )
        count = conn.execute(
            select(func.count()).select_from(vending_audits).where(vending_audits.c.machine_id == machine_id)
        ).scalar_one()
        out[machine.serial] = MachineResume(
            columns, read_counter=int(count), last_read_at=max(read_at, default=None), seen_at=max(seen, default=None)
        )
    return out


def stock_new_machines(conn: Connection, spec: FleetSpec, seed: FleetSeed, *, at: datetime) -> dict[str, MachineResume]:
    """The opening fill (a counted level, ``initial_fill`` × par) of machines the platform has no stock for."""
    added: dict[str, MachineResume] = {}
    for machine in spec.machines:
        if machine.serial in seed.resume:
            continue
        levels = {
            c.selection: round(c.par * share) for c, share in zip(machine.columns, machine.initial_fill, strict=True)
        }
        record_fills(
            conn,
            tenant_id=seed.credentials.tenant_id,
            machine_id=seed.machine_ids[machine.serial],
            lines=[FillLine(selection=s, level=n) for s, n in levels.items()],
            recorded_by="cli",
            filled_at=at,
            source="cli",
        )
        added[machine.serial] = MachineResume({s: ColumnResume(n, 0, 0) for s, n in levels.items()})
    return added


def _device_ids(conn: Connection, tenant_id: str) -> dict[str, str]:
    from tradeoff.platform import tenancy

    return {d.external_id: d.id for d in tenancy.list_devices(conn, tenant_id=tenant_id)}
