"""Bus processor: DEX audits and telemetry → per-column stock, daily vends, machine state and alerts.

One processor handles both event types so a machine's audits and sensor counts are applied in log order.
Its effects commit with the bus checkpoint, so each event applies exactly once; on top of that an audit
whose SHA-256 this machine already applied (the same file uploaded again under another event id) and an
audit older than the newest applied one are recorded but change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from tradeoff.core.clock import utcnow
from tradeoff.core.events import Event
from tradeoff.platform.db.tables import devices
from tradeoff.vending import validate
from tradeoff.vending.fleet import Machine, get_machine
from tradeoff.vending.payloads import (
    DEX_AUDIT,
    TELEMETRY,
    Audit,
    Door,
    Fault,
    SlotStock,
    Temperature,
    parse_audit,
    parse_telemetry,
)
from tradeoff.vending.projections import (
    ColumnRow,
    add_daily_vends,
    load_columns,
    load_state,
    open_alert,
    resolve_alert,
    save_column,
    save_state,
    sync_sold_out,
)
from tradeoff.vending.stock import ColumnDelta, ColumnStock, Totals, apply_sales, column_delta, reconcile, split_by_day
from tradeoff.vending.store import vending_audits, vending_machines, vending_planogram_columns


def find_machine(conn: Connection, *, tenant_id: str, serial: str | None, source: str) -> Machine | None:
    """The machine an event is about: by DEX serial, else by the device that sent it."""
    table = vending_machines
    if serial:
        row = conn.execute(
            select(table.c.id).where(table.c.tenant_id == tenant_id, table.c.dex_serial == serial)
        ).first()
        if row is not None:
            return get_machine(conn, tenant_id=tenant_id, machine_id=row.id)
    row = conn.execute(
        select(table.c.id)
        .join(devices, devices.c.id == table.c.device_id)
        .where(table.c.tenant_id == tenant_id, devices.c.tenant_id == tenant_id, devices.c.external_id == source)
    ).first()
    return get_machine(conn, tenant_id=tenant_id, machine_id=row.id) if row is not None else None


class VendingStockProcessor:
    name = "vending_stock"
    event_types: frozenset[str] | None = frozenset({DEX_AUDIT, TELEMETRY})

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        for event in events:
            if event.type == DEX_AUDIT:
                apply_audit(conn, event)
            else:
                apply_telemetry(conn, event)


# -- audits ---------------------------------------------------------------------------------------------


def _audit_time(audit: Audit, machine: Machine | None, event: Event) -> datetime:
    if audit.read_at is None:
        return event.occurred_at
    if audit.read_at.tzinfo is None:  # DEX clocks run in the machine's local time
        zone = validate.timezone(machine.timezone) if machine is not None else event.occurred_at.tzinfo
        return audit.read_at.replace(tzinfo=zone)
    return audit.read_at


def apply_audit(conn: Connection, event: Event) -> None:
    audit = parse_audit(event.payload)
    machine = find_machine(conn, tenant_id=event.tenant_id, serial=audit.serial, source=event.source)
    read_at = _audit_time(audit, machine, event)
    record: dict[str, Any] = {
        "tenant_id": event.tenant_id,
        "machine_id": machine.id if machine else None,
        "event_id": event.event_id,
        "source": event.source,
        "dex_serial": audit.serial,
        "read_at": read_at,
        "sha256": audit.sha256,
        "reconciliation": "skipped",
        "flags": _audit_flags(audit),
        "processed_at": utcnow(),
    }
    if machine is None:
        ref = audit.serial or event.source
        open_alert(
            conn,
            tenant_id=event.tenant_id,
            machine_id=None,
            kind="unknown_machine",
            ref=ref[:128],
            message=f"a DEX audit from {ref!r} matches no machine (set the machine's dex_serial or device)",
            at=read_at,
        )
        conn.execute(insert(vending_audits).values(**record, status="unmatched"))
        return
    _resolve_unknown(conn, event.tenant_id, (audit.serial or event.source)[:128], read_at)
    if audit.serial and machine.dex_serial and audit.serial != machine.dex_serial:
        record["flags"] = [*record["flags"], "serial_mismatch"]  # matched by device; the board says otherwise
    state = load_state(conn, tenant_id=event.tenant_id, machine_id=machine.id)
    if _already_applied(conn, machine.id, audit.sha256):
        conn.execute(insert(vending_audits).values(**record, status="duplicate"))
        return
    if state.last_read_at is not None and read_at <= state.last_read_at:
        conn.execute(insert(vending_audits).values(**record, status="out_of_order"))
        return
    deltas = _apply_columns(conn, machine, audit, read_at)
    previous = Totals(**state.totals) if state.totals else None
    check = reconcile(deltas, previous, audit.totals)
    if check.status == "mismatch":
        open_alert(
            conn,
            tenant_id=event.tenant_id,
            machine_id=machine.id,
            kind="reconciliation",
            ref=read_at.isoformat(),
            message=f"money does not reconcile: {check.reason}",
            details={"columns_value": check.columns_value, "totals_value": check.totals_value, "event": event.event_id},
            at=read_at,
        )
    flags = set(record["flags"]) | {flag for delta in deltas.values() for flag in delta.flags}
    record |= {
        "flags": sorted(flags),
        "status": "applied" if state.last_read_at is not None else "baseline",
        "vends": sum(d.units_out for d in deltas.values()),
        "value": check.columns_value,
        "totals_value": check.totals_value,
        "reconciliation": check.status,
    }
    conn.execute(insert(vending_audits).values(**record))
    totals = {"vends": audit.totals.vends, "value": audit.totals.value}
    new_state = replace(state, last_read_at=read_at, totals=totals, currency=audit.currency, decimals=audit.decimals)
    save_state(conn, new_state, now=utcnow())


def _resolve_unknown(conn: Connection, tenant_id: str, ref: str, at: datetime) -> None:
    """Once a sender is matched (its machine was registered), its unknown-machine alert is over."""
    resolve_alert(conn, tenant_id=tenant_id, machine_id=None, kind="unknown_machine", ref=ref, at=at)


def _audit_flags(audit: Audit) -> list[str]:
    flags = []
    if audit.checksum_valid is False:
        flags.append("checksum_invalid")
    if audit.truncated:
        flags.append("truncated")
    if audit.read_at is None:
        flags.append("no_read_time")
    return flags


def _already_applied(conn: Connection, machine_id: str, sha256: str | None) -> bool:
    if sha256 is None:
        return False
    query = select(vending_audits.c.id).where(
        vending_audits.c.machine_id == machine_id,
        vending_audits.c.sha256 == sha256,
        vending_audits.c.status.in_(("applied", "baseline")),
    )
    return conn.execute(query.limit(1)).first() is not None


def _planogram_selections(conn: Connection, machine_id: str) -> set[str]:
    table = vending_planogram_columns
    return set(conn.execute(select(table.c.selection).where(table.c.machine_id == machine_id)).scalars())


def _apply_columns(conn: Connection, machine: Machine, audit: Audit, read_at: datetime) -> dict[str, ColumnDelta]:
    """Difference each column against its last audit, charge the units to its stock and daily history."""
    rows = load_columns(conn, machine.id)
    planned = _planogram_selections(conn, machine.id)
    zone = validate.timezone(machine.timezone)
    now = utcnow()
    deltas: dict[str, ColumnDelta] = {}
    for selection, column in audit.columns.items():
        row = rows.get(selection) or ColumnRow(machine.id, selection, machine.tenant_id)
        delta = column_delta(row.counters, column.counters)
        deltas[selection] = delta
        stock = apply_sales(row.stock, delta.units_out, row.counters_at, read_at)
        by_day = split_by_day(delta.units_out, row.counters_at, read_at, zone)
        add_daily_vends(
            conn, tenant_id=machine.tenant_id, machine_id=machine.id, selection=selection, by_day=by_day, now=now
        )
        flags = set(delta.flags) - {"new_column"}
        if selection not in planned:
            flags.add("not_in_planogram")
        updated = replace(
            row,
            counters=column.counters,
            counters_at=read_at,
            first_seen_at=row.first_seen_at or read_at,
            dex_product=column.product,
            price=column.price,
            flags=tuple(sorted(flags)),
        ).with_stock(stock)
        save_column(conn, updated, now=now)
        key: dict[str, Any] = {"tenant_id": machine.tenant_id, "machine_id": machine.id, "kind": "counter_reset"}
        if "counter_reset" in delta.flags:
            message = f"column {selection}: PA201 went backwards (board re-initialised?); counted {delta.paid_vends}"
            open_alert(conn, **key, ref=selection, message=message, at=read_at, details={"method": delta.method})
        if selection in planned or updated.level is not None:
            sync_sold_out(conn, updated, at=read_at)
    return deltas


# -- telemetry ------------------------------------------------------------------------------------------


def apply_telemetry(conn: Connection, event: Event) -> None:
    readings = parse_telemetry(event.payload)
    machine = find_machine(conn, tenant_id=event.tenant_id, serial=None, source=event.source)
    at = event.occurred_at
    if machine is None:
        open_alert(
            conn,
            tenant_id=event.tenant_id,
            machine_id=None,
            kind="unknown_machine",
            ref=event.source,
            message=f"telemetry from device {event.source!r} matches no machine",
            at=at,
        )
        return
    _resolve_unknown(conn, event.tenant_id, event.source, at)
    state = load_state(conn, tenant_id=event.tenant_id, machine_id=machine.id)
    for reading in readings:
        if isinstance(reading, SlotStock):
            _slot_count(conn, machine, reading, at)
        elif isinstance(reading, Door):
            if state.door_at is None or at >= state.door_at:
                state = replace(state, door_open=reading.open, door_at=at)
        elif isinstance(reading, Temperature):
            if state.celsius_at is None or at >= state.celsius_at:
                state = replace(state, celsius=reading.celsius, celsius_at=at)
                _temperature_alert(conn, machine, reading.celsius, at)
        elif isinstance(reading, Fault):
            key: dict[str, Any] = {"tenant_id": machine.tenant_id, "machine_id": machine.id, "kind": "fault"}
            if reading.active:
                message = f"fault {reading.code}" + (f": {reading.message}" if reading.message else "")
                open_alert(conn, **key, ref=reading.code, message=message, at=at)
            else:
                resolve_alert(conn, **key, ref=reading.code, at=at)
    save_state(conn, state, now=utcnow())


def _slot_count(conn: Connection, machine: Machine, reading: SlotStock, at: datetime) -> None:
    """A sensor's count is a level like a fill: later audits only charge the sales after it."""
    row = load_columns(conn, machine.id).get(reading.selection) or ColumnRow(
        machine.id, reading.selection, machine.tenant_id
    )
    if row.sensor_at is not None and at < row.sensor_at:
        return  # an older reading arriving late
    stock = row.stock
    if stock.level_at is None or at >= stock.level_at:
        stock = ColumnStock(reading.units, at, 0, reading.units, at)
        row = replace(row, level_source="sensor")
    else:
        stock = replace(stock, sensor_units=reading.units, sensor_at=at)
    updated = row.with_stock(stock)
    save_column(conn, updated, now=utcnow())
    sync_sold_out(conn, updated, at=at)


def _temperature_alert(conn: Connection, machine: Machine, celsius: float, at: datetime) -> None:
    if machine.max_celsius is None:
        return
    key: dict[str, Any] = {"tenant_id": machine.tenant_id, "machine_id": machine.id, "kind": "temperature"}
    if celsius > machine.max_celsius:
        message = f"{celsius:.1f} °C is above the machine's limit of {machine.max_celsius:.1f} °C"
        open_alert(conn, **key, ref="max", message=message, at=at, details={"celsius": celsius})
    else:
        resolve_alert(conn, **key, ref="max", at=at)
