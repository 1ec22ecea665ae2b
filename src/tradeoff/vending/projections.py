"""Reading and writing the stock projections and alerts (the only code that touches those tables)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tradeoff.vending.stock import ColumnStock, Counters
from tradeoff.vending.store import vending_alerts, vending_column_stock, vending_column_vends, vending_machine_state


@dataclass(frozen=True)
class ColumnRow:
    """One column's projection row."""

    machine_id: str
    selection: str
    tenant_id: str
    level: int | None = None
    level_at: datetime | None = None
    level_source: str | None = None
    vends_since_level: int = 0
    counters: Counters | None = None
    counters_at: datetime | None = None
    first_seen_at: datetime | None = None
    dex_product: str | None = None
    price: int | None = None
    sensor_units: int | None = None
    sensor_at: datetime | None = None
    flags: tuple[str, ...] = ()

    @property
    def stock(self) -> ColumnStock:
        return ColumnStock(self.level, self.level_at, self.vends_since_level, self.sensor_units, self.sensor_at)

    def with_stock(self, stock: ColumnStock) -> ColumnRow:
        return replace(
            self,
            level=stock.level,
            level_at=stock.level_at,
            vends_since_level=stock.vends_since_level,
            sensor_units=stock.sensor_units,
            sensor_at=stock.sensor_at,
        )


def _column(row: Any) -> ColumnRow:
    m = row._mapping
    return ColumnRow(
        machine_id=m["machine_id"],
        selection=m["selection"],
        tenant_id=m["tenant_id"],
        level=m["level"],
        level_at=m["level_at"],
        level_source=m["level_source"],
        vends_since_level=m["vends_since_level"],
        counters=Counters.from_json(m["counters"]) if m["counters"] is not None else None,
        counters_at=m["counters_at"],
        first_seen_at=m["first_seen_at"],
        dex_product=m["dex_product"],
        price=m["price"],
        sensor_units=m["sensor_units"],
        sensor_at=m["sensor_at"],
        flags=tuple(m["flags"] or ()),
    )


def load_columns(conn: Connection, machine_id: str) -> dict[str, ColumnRow]:
    query = select(vending_column_stock).where(vending_column_stock.c.machine_id == machine_id)
    return {row.selection: _column(row) for row in conn.execute(query)}


def save_column(conn: Connection, row: ColumnRow, *, now: datetime) -> None:
    """Insert or replace one column's projection."""
    values = {
        "machine_id": row.machine_id,
        "selection": row.selection,
        "tenant_id": row.tenant_id,
        "level": row.level,
        "level_at": row.level_at,
        "level_source": row.level_source,
        "vends_since_level": row.vends_since_level,
        "counters": row.counters.to_json() if row.counters is not None else None,
        "counters_at": row.counters_at,
        "first_seen_at": row.first_seen_at,
        "dex_product": row.dex_product,
        "price": row.price,
        "sensor_units": row.sensor_units,
        "sensor_at": row.sensor_at,
        "flags": sorted(set(row.flags)),
        "updated_at": now,
    }
    stmt = _insert(conn, vending_column_stock).values(**values)
    keys = {"machine_id", "selection"}
    conn.execute(
        stmt.on_conflict_do_update(index_elements=sorted(keys), set_={k: v for k, v in values.items() if k not in keys})
    )


def _insert(conn: Connection, table: Any) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


# -- machine state --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineState:
    machine_id: str
    tenant_id: str
    last_read_at: datetime | None = None
    totals: dict[str, int | None] | None = None
    currency: str | None = None
    decimals: int | None = None
    door_open: bool | None = None
    door_at: datetime | None = None
    celsius: float | None = None
    celsius_at: datetime | None = None


_STATE_FIELDS = ("last_read_at", "totals", "currency", "decimals", "door_open", "door_at", "celsius", "celsius_at")


def load_state(conn: Connection, *, tenant_id: str, machine_id: str) -> MachineState:
    row = conn.execute(select(vending_machine_state).where(vending_machine_state.c.machine_id == machine_id)).first()
    if row is None:
        return MachineState(machine_id=machine_id, tenant_id=tenant_id)
    return MachineState(machine_id=machine_id, tenant_id=tenant_id, **{k: row._mapping[k] for k in _STATE_FIELDS})


def save_state(conn: Connection, state: MachineState, *, now: datetime) -> None:
    values: dict[str, Any] = {k: getattr(state, k) for k in _STATE_FIELDS}
    stmt = _insert(conn, vending_machine_state).values(
        machine_id=state.machine_id, tenant_id=state.tenant_id, updated_at=now, **values
    )
    conn.execute(stmt.on_conflict_do_update(index_elements=["machine_id"], set_={**values, "updated_at": now}))


# -- daily vends ----------------------------------------------------------------------------------------


def add_daily_vends(
    conn: Connection, *, tenant_id: str, machine_id: str, selection: str, by_day: Mapping[date, int], now: datetime
) -> None:
    """Add vends to a column's per-day history (the forecaster's input)."""
    if not by_day:
        return
    stmt = _insert(conn, vending_column_vends)
    stmt = stmt.on_conflict_do_update(
        index_elements=["machine_id", "selection", "day"],
        set_={"vends": vending_column_vends.c.vends + stmt.excluded.vends, "updated_at": now},
    )
    rows = [
        {
            "machine_id": machine_id,
            "selection": selection,
            "day": day,
            "tenant_id": tenant_id,
            "vends": n,
            "updated_at": now,
        }
        for day, n in sorted(by_day.items())
    ]
    conn.execute(stmt, rows)


# -- alerts ---------------------------------------------------------------------------------------------


def open_alert(
    conn: Connection,
    *,
    tenant_id: str,
    machine_id: str | None,
    kind: str,
    ref: str,
    message: str,
    at: datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Open an alert, or refresh the open one of the same kind and ref (one open alert per problem)."""
    where = _alert_key(tenant_id, machine_id, kind, ref)
    found = conn.execute(select(vending_alerts.c.id).where(where, vending_alerts.c.resolved_at.is_(None))).first()
    if found is not None:
        conn.execute(
            update(vending_alerts)
            .where(vending_alerts.c.id == found.id)
            .values(last_seen_at=at, message=message, details=dict(details or {}))
        )
        return
    conn.execute(
        insert(vending_alerts).values(
            tenant_id=tenant_id,
            machine_id=machine_id,
            kind=kind,
            ref=ref,
            message=message,
            details=dict(details or {}),
            opened_at=at,
            last_seen_at=at,
            resolved_at=None,
        )
    )


def resolve_alert(
    conn: Connection, *, tenant_id: str, machine_id: str | None, kind: str, ref: str, at: datetime
) -> None:
    where = _alert_key(tenant_id, machine_id, kind, ref)
    conn.execute(update(vending_alerts).where(where, vending_alerts.c.resolved_at.is_(None)).values(resolved_at=at))


def _alert_key(tenant_id: str, machine_id: str | None, kind: str, ref: str) -> Any:
    machine = vending_alerts.c.machine_id.is_(None) if machine_id is None else vending_alerts.c.machine_id == machine_id
    return and_(
        vending_alerts.c.tenant_id == tenant_id, machine, vending_alerts.c.kind == kind, vending_alerts.c.ref == ref
    )


def sync_sold_out(conn: Connection, row: ColumnRow, *, at: datetime) -> None:
    """Open or resolve the column's sold-out alert to match its stock."""
    key: dict[str, Any] = {"tenant_id": row.tenant_id, "machine_id": row.machine_id, "kind": "sold_out"}
    key["ref"] = row.selection
    if row.stock.sold_out:
        why = "a slot sensor counted 0" if row.sensor_units == 0 else "no units left since the last fill"
        open_alert(conn, **key, message=f"column {row.selection} is sold out ({why})", at=at)
    else:
        resolve_alert(conn, **key, at=at)
