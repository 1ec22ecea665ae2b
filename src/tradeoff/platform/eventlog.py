"""The event log: append-only, deduplicated by (tenant_id, event_id), ordered by ``seq``.

Appends are serialized (a process lock and ``BEGIN IMMEDIATE`` on SQLite, an advisory transaction lock on
PostgreSQL) so that ``seq`` order equals commit order; processors tailing ``seq > checkpoint`` can then
never skip an event that commits late.

``append_events`` is the ingest hot path: it hands the driver one executemany of pre-converted tuples
(converted by the columns' own SQLAlchemy bind processors, so stored values are identical to a Core
insert) instead of letting Core render a multi-row ``INSERT … RETURNING`` per batch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from tradeoff.core.events import Event
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.tables import dead_letters, events

_APPEND_LOCK_KEY = 0x7472616465  # "trade"
_sqlite_lock = threading.Lock()


@contextmanager
def append_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction that holds the log's append lock until commit."""
    if engine.dialect.name == "sqlite":
        with _sqlite_lock, write_transaction(engine) as conn:
            yield conn
    else:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK_KEY})
            yield conn


def append_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert rows, skipping ids already stored; returns ``event_id → seq`` for the rows inserted."""
    if not rows:
        return {}
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        dialect_insert(events)
        .on_conflict_do_nothing(index_elements=["tenant_id", "event_id"])
        .returning(events.c.event_id, events.c.seq)
    )
    return {row.event_id: row.seq for row in conn.execute(stmt, list(rows))}


def add_dead_letters(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(dead_letters), list(rows))


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    received_at: datetime
    transport: str
    source: str | None
    reason_code: str
    reason: str
    raw: bytes

    @property
    def raw_text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


def recent_dead_letters(conn: Connection, *, tenant_id: str, limit: int) -> list[DeadLetter]:
    query = (
        select(dead_letters)
        .where(dead_letters.c.tenant_id == tenant_id)
        .order_by(dead_letters.c.id.desc())
        .limit(limit)
    )
    return [
        DeadLetter(
            id=row.id,
            received_at=row.received_at,
            transport=row.transport,
            source=row.source,
            reason_code=row.reason_code,
            reason=row.reason,
            raw=bytes(row.raw),
        )
        for row in conn.execute(query)
    ]


def row_to_event(row: Any) -> Event:
    return Event(
        seq=row.seq,
        tenant_id=row.tenant_id,
        event_id=row.event_id,
        type=row.type,
        schema_version=row.schema_version,
        source=row.source,
        occurred_at=row.occurred_at,
        received_at=row.received_at,
        transport=row.transport,
        payload=row.payload,
    )


def read_events(
    conn: Connection,
    *,
    after_seq: int,
    limit: int,
    tenant_id: str | None = None,
    types: Sequence[str] | None = None,
    source: str | None = None,
) -> list[Event]:
    """Events after ``after_seq`` in log order; ``tenant_id=None`` is for processors, never for the API."""
    query = select(events).where(events.c.seq > after_seq).order_by(events.c.seq).limit(limit)
    if tenant_id is not None:
        query = query.where(events.c.tenant_id == tenant_id)
    if types:
        query = query.where(events.c.type.in_(list(types)))
    if source is not None:
        query = query.where(events.c.source == source)
    return [row_to_event(row) for row in conn.execute(query)]


def get_event(conn: Connection, *, tenant_id: str, event_id: str) -> Event | None:
    query = select(events).where(events.c.tenant_id == tenant_id, events.c.event_id == event_id)
    row = conn.execute(query).first()
    return row_to_event(row) if row else None


def max_seq(conn: Connection) -> int:
    value = conn.execute(select(events.c.seq).order_by(events.c.seq.desc()).limit(1)).scalar()
    return int(value or 0)
