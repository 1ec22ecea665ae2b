"""Fills recorded by drivers: what went into a column sets its level; later sales count down from it.

A fill is one of: ``units`` added, filled ``to_par``, or a counted ``level``. Only the id of the key or
user that recorded it is kept (``recorded_by``), never a driver's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert, select

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import InvalidInput
from tradeoff.core.ids import new_id
from tradeoff.vending import validate
from tradeoff.vending.fleet import get_machine, get_planogram
from tradeoff.vending.projections import ColumnRow, load_columns, save_column, sync_sold_out
from tradeoff.vending.stock import ColumnStock, fill
from tradeoff.vending.store import vending_fills

SOURCES = ("api", "cli", "import")
CLOCK_SKEW = timedelta(minutes=5)  # a handheld's clock may run a little ahead


@dataclass(frozen=True, slots=True)
class Fill:
    id: str
    tenant_id: str
    machine_id: str
    selection: str
    product_id: str | None
    units_added: int
    level_after: int
    filled_at: datetime
    recorded_by: str
    source: str
    created_at: datetime


@dataclass(frozen=True)
class FillLine:
    selection: str
    units: int | None = None
    to_par: bool = False
    level: int | None = None


def record_fills(
    conn: Connection,
    *,
    tenant_id: str,
    machine_id: str,
    lines: Sequence[FillLine],
    recorded_by: str,
    filled_at: datetime | None = None,
    source: str = "api",
) -> list[Fill]:
    """Record one visit's fills; every line is checked before anything is stored."""
    get_machine(conn, tenant_id=tenant_id, machine_id=machine_id)
    now = utcnow()
    at = filled_at or now
    if at.tzinfo is None:
        raise InvalidInput("filled_at", "needs a time zone (e.g. 2026-11-29T10:00:00Z)")
    at = at.astimezone(UTC)
    if at > now + CLOCK_SKEW:
        raise InvalidInput("filled_at", "lies in the future")
    if source not in SOURCES:
        raise InvalidInput("source", f"one of {', '.join(SOURCES)}")
    if not lines:
        raise InvalidInput("lines", "at least one column to fill")
    planogram = {c.selection: c for c in get_planogram(conn, tenant_id=tenant_id, machine_id=machine_id)}
    rows = load_columns(conn, machine_id)
    fills: list[Fill] = []
    updated: list[ColumnRow] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        selection = validate.selection(line.selection)
        column = planogram.get(selection)
        if column is None:
            raise InvalidInput(f"{where}.selection", f"column {selection!r} is not in the machine's planogram")
        if selection in seen:
            raise InvalidInput(f"{where}.selection", f"column {selection!r} is filled twice in one visit")
        seen.add(selection)
        row = rows.get(selection) or ColumnRow(machine_id, selection, tenant_id)
        try:
            result = fill(
                row.stock.on_hand,
                capacity=column.capacity,
                par=column.par,
                units=line.units,
                to_par=line.to_par,
                level=line.level,
            )
        except ValueError as exc:
            raise InvalidInput(where, str(exc)) from None
        fills.append(
            Fill(
                new_id(),
                tenant_id,
                machine_id,
                selection,
                column.product_id,
                result.units_added,
                result.level_after,
                at,
                recorded_by[:64],
                source,
                now,
            )
        )
        if row.level_at is None or at >= row.level_at:  # a back-dated fill does not undo a newer count
            stock = ColumnStock(result.level_after, at, 0, row.sensor_units, row.sensor_at)
            updated.append(replace(row.with_stock(stock), level_source="fill"))
    conn.execute(insert(vending_fills), [asdict(f) for f in fills])
    for row in updated:
        save_column(conn, row, now=now)
        sync_sold_out(conn, row, at=at)
    return fills


def record_fill(
    conn: Connection,
    *,
    tenant_id: str,
    machine_id: str,
    selection: str,
    recorded_by: str,
    units: int | None = None,
    to_par: bool = False,
    level: int | None = None,
    filled_at: datetime | None = None,
    source: str = "api",
) -> Fill:
    line = FillLine(selection=selection, units=units, to_par=to_par, level=level)
    return record_fills(
        conn,
        tenant_id=tenant_id,
        machine_id=machine_id,
        lines=[line],
        recorded_by=recorded_by,
        filled_at=filled_at,
        source=source,
    )[0]


def list_fills(conn: Connection, *, tenant_id: str, machine_id: str, limit: int = 100) -> list[Fill]:
    get_machine(conn, tenant_id=tenant_id, machine_id=machine_id)
    query = (
        select(vending_fills)
        .where(vending_fills.c.tenant_id == tenant_id, vending_fills.c.machine_id == machine_id)
        .order_by(vending_fills.c.filled_at.desc(), vending_fills.c.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    return [Fill(**row._mapping) for row in conn.execute(query)]
