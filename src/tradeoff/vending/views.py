"""Read models for the API and CLI: a machine's stock per column, its state, and alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import Forbidden, InvalidInput, NotFound
from tradeoff.vending.fleet import get_machine, get_planogram, list_products
from tradeoff.vending.projections import load_columns, load_state
from tradeoff.vending.stock import threshold_units
from tradeoff.vending.store import vending_alerts, vending_audits

ALERT_KINDS = ("sold_out", "reconciliation", "fault", "counter_reset", "temperature", "unknown_machine")


@dataclass(frozen=True)
class ColumnView:
    selection: str
    in_planogram: bool
    product_id: str | None
    product_sku: str | None
    capacity: int | None
    par: int | None
    threshold: int | None
    on_hand: int | None  # None: no fill or sensor count yet
    level: int | None
    level_at: datetime | None
    level_source: str | None
    vends_since_level: int
    sensor_units: int | None
    sensor_at: datetime | None
    sold_out: bool
    due: bool  # on-hand at or below the threshold, or unknown (planning treats unknown as empty)
    dex_product: str | None
    price: int | None
    last_audit_at: datetime | None
    flags: tuple[str, ...]


def machine_stock(conn: Connection, *, tenant_id: str, machine_id: str) -> list[ColumnView]:
    """Every planogram column plus any column audits reported that the planogram lacks."""
    planogram = {c.selection: c for c in get_planogram(conn, tenant_id=tenant_id, machine_id=machine_id)}
    products = {p.id: p for p in list_products(conn, tenant_id=tenant_id)}
    rows = load_columns(conn, machine_id)
    views = []
    for selection in sorted(set(planogram) | set(rows), key=_selection_order):
        column = planogram.get(selection)
        row = rows.get(selection)
        stock = row.stock if row is not None else None
        on_hand = stock.on_hand if stock is not None else None
        threshold = threshold_units(column.par, column.threshold_pct) if column is not None else None
        product = products.get(column.product_id) if column is not None else None
        views.append(
            ColumnView(
                selection=selection,
                in_planogram=column is not None,
                product_id=column.product_id if column is not None else None,
                product_sku=product.sku if product is not None else None,
                capacity=column.capacity if column is not None else None,
                par=column.par if column is not None else None,
                threshold=threshold,
                on_hand=on_hand,
                level=row.level if row else None,
                level_at=row.level_at if row else None,
                level_source=row.level_source if row else None,
                vends_since_level=row.vends_since_level if row else 0,
                sensor_units=row.sensor_units if row else None,
                sensor_at=row.sensor_at if row else None,
                sold_out=bool(stock and stock.sold_out),
                due=threshold is not None and (on_hand is None or on_hand <= threshold),
                dex_product=row.dex_product if row else None,
                price=row.price if row else None,
                last_audit_at=row.counters_at if row else None,
                flags=row.flags if row else (),
            )
        )
    return views


def _selection_order(selection: str) -> tuple[int, int, str]:
    """Numeric selections in number order ("2" before "10"), then the rest."""
    return (0, int(selection), "") if selection.isdigit() else (1, 0, selection)


def machine_state(conn: Connection, *, tenant_id: str, machine_id: str) -> dict[str, Any]:
    get_machine(conn, tenant_id=tenant_id, machine_id=machine_id)
    state = load_state(conn, tenant_id=tenant_id, machine_id=machine_id)
    return {
        "last_read_at": state.last_read_at,
        "totals": state.totals,
        "currency": state.currency,
        "decimals": state.decimals,
        "door_open": state.door_open,
        "door_at": state.door_at,
        "celsius": state.celsius,
        "celsius_at": state.celsius_at,
    }


@dataclass(frozen=True)
class Alert:
    id: int
    machine_id: str | None
    kind: str
    ref: str
    message: str
    details: dict[str, Any]
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


def list_alerts(
    conn: Connection,
    *,
    tenant_id: str,
    machine_id: str | None = None,
    kind: str | None = None,
    include_resolved: bool = False,
    limit: int = 200,
) -> list[Alert]:
    if kind is not None and kind not in ALERT_KINDS:
        raise InvalidInput("kind", f"one of {', '.join(ALERT_KINDS)}")
    table = vending_alerts
    query = select(table).where(table.c.tenant_id == tenant_id)
    if machine_id is not None:
        get_machine(conn, tenant_id=tenant_id, machine_id=machine_id)
        query = query.where(table.c.machine_id == machine_id)
    if kind is not None:
        query = query.where(table.c.kind == kind)
    if not include_resolved:
        query = query.where(table.c.resolved_at.is_(None))
    query = query.order_by(table.c.opened_at.desc(), table.c.id.desc()).limit(max(1, min(limit, 1000)))
    return [Alert(**{k: row._mapping[k] for k in Alert.__dataclass_fields__}) for row in conn.execute(query)]


def resolve_alerts(conn: Connection, *, tenant_id: str, ids: Sequence[int]) -> list[Alert]:
    """Close alerts by hand (a reconciliation mismatch someone checked); all must be the tenant's."""
    table = vending_alerts
    rows = {row.id: row for row in conn.execute(select(table).where(table.c.id.in_(list(ids))))}
    for alert_id in ids:
        row = rows.get(alert_id)
        if row is None:
            raise NotFound(f"alert {alert_id} not found")
        if row.tenant_id != tenant_id:
            raise Forbidden(f"alert {alert_id} belongs to another tenant")
    now = utcnow()
    conn.execute(update(table).where(table.c.id.in_(list(ids)), table.c.resolved_at.is_(None)).values(resolved_at=now))
    query = select(table).where(table.c.id.in_(list(ids))).order_by(table.c.id)
    return [Alert(**{k: row._mapping[k] for k in Alert.__dataclass_fields__}) for row in conn.execute(query)]


def list_audits(conn: Connection, *, tenant_id: str, machine_id: str, limit: int = 50) -> list[dict[str, Any]]:
    get_machine(conn, tenant_id=tenant_id, machine_id=machine_id)
    table = vending_audits
    query = (
        select(table)
        .where(table.c.tenant_id == tenant_id, table.c.machine_id == machine_id)
        .order_by(table.c.read_at.desc(), table.c.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    return [dict(row._mapping) for row in conn.execute(query)]
