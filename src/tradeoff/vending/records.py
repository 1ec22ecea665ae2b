"""Tenant-scoped rows ↔ frozen dataclasses for the fleet tables: get (404/403), list, write, delete."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tradeoff.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tradeoff.vending.store import vending_depots, vending_machines, vending_products, vending_trucks

T = TypeVar("T")
KINDS: dict[str, Table] = {
    "depot": vending_depots,
    "truck": vending_trucks,
    "product": vending_products,
    "machine": vending_machines,
}


def row_as(cls: type[T], row: Any) -> T:
    return cls(**{f.name: row._mapping[f.name] for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


def get(conn: Connection, cls: type[T], kind: str, *, tenant_id: str, object_id: str) -> T:
    table = KINDS[kind]
    row = conn.execute(select(table).where(table.c.id == object_id)).first()
    if row is None:
        raise NotFound(f"{kind} {object_id} not found")
    if row.tenant_id != tenant_id:
        raise Forbidden(f"{kind} {object_id} belongs to another tenant")
    return row_as(cls, row)


def list_of(conn: Connection, cls: type[T], kind: str, *, tenant_id: str, order: str = "name") -> list[T]:
    table = KINDS[kind]
    query = select(table).where(table.c.tenant_id == tenant_id).order_by(table.c[order])
    return [row_as(cls, row) for row in conn.execute(query)]


def write(conn: Connection, kind: str, obj: Any, *, new: bool) -> None:
    """Insert or update; a unique name/serial/sku clash is a ``Conflict`` that leaves nothing behind."""
    table = KINDS[kind]
    values = dataclasses.asdict(obj)
    try:
        with conn.begin_nested():
            if new:
                conn.execute(insert(table).values(**values))
            else:
                conn.execute(update(table).where(table.c.id == obj.id).values(**values))
    except IntegrityError as exc:
        raise Conflict(f"another {kind} of this tenant already has that name or identifier") from exc


def delete_one(conn: Connection, kind: str, *, tenant_id: str, object_id: str, cls: type[Any]) -> None:
    get(conn, cls, kind, tenant_id=tenant_id, object_id=object_id)
    table = KINDS[kind]
    try:
        with conn.begin_nested():
            conn.execute(delete(table).where(table.c.id == object_id))
    except IntegrityError as exc:
        raise Conflict(
            f"{kind} {object_id} is still in use (trucks, machines, planograms or stock refer to it)"
        ) from exc


def changed(obj: T, changes: Mapping[str, Any], fixed: frozenset[str]) -> T:
    fields = {f.name: str(f.type) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]
    unknown = set(changes) - set(fields) | (set(changes) & fixed)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed")
    for name, value in changes.items():
        if value is None and "None" not in fields[name]:
            raise InvalidInput(name, "cannot be null")
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
