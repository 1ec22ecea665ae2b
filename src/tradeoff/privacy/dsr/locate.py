"""Finding a subject's rows: by subject id in registry tables, by keyed pseudonym in events (and in any
``pseudonym_key`` table), by the raw subject id in dead letters. Every query is bounded by tenant.

Events carry the subject only inside the JSON payload (``payload.subject`` = ``ps_…`` or ``pd_…``), so the
events query extracts it per row of the tenant (portable JSON: ``json_extract`` on SQLite, ``->>`` on
PostgreSQL). Daily pseudonyms depend on the day of ``occurred_at`` in the producer's offset, which is at
most one day away from its UTC date: the candidate days are the UTC dates of the tenant's daily-pseudonym
events, widened by one day each way, so nothing the gate could have written is missed whatever the
devices' clocks said. See ``docs/privacy-dsr.md`` for the indexed column that would make this a lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Delete, Select, TextClause, and_, delete, func, select, text

from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.privacy.dsr.registry import PersonalDataRegistry, PersonalTable
from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.subjects.pseudonyms import DAILY_PREFIX, Pseudonymizer

CHUNK = 500  # values per IN (…) list


def chunks(values: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def event_subject() -> ColumnElement[Any]:
    """Where an event names its subject: a ``pseudonym_key`` column once ``events`` has one (the proposed
    indexed ``subject_pseudonym``), else ``payload.subject`` extracted from the JSON."""
    declared: list[ColumnElement[Any]] = [c for c in events.columns if c.info.get("pseudonym_key")]
    if declared:
        return declared[0]
    extracted: ColumnElement[Any] = events.c.payload["subject"].as_string()
    return extracted


def utc_day(conn: Connection, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """``YYYY-MM-DD`` of a UTC datetime column (ISO text on SQLite, timestamptz on PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)


def _days(conn: Connection, query: Select[Any]) -> set[date]:
    days: set[date] = set()
    for value in conn.scalars(query):
        if value:
            day = date.fromisoformat(str(value)[:10])
            days.update({day - timedelta(days=1), day, day + timedelta(days=1)})
    return days


def candidate_days(conn: Connection, *, tenant_id: str, registry: PersonalDataRegistry) -> set[date]:
    """Every day a daily pseudonym of any subject of the tenant may have been made for."""
    subject = event_subject()
    day = utc_day(conn, events.c.occurred_at)
    found = _days(
        conn,
        select(day)
        .where(events.c.tenant_id == tenant_id, subject.startswith(DAILY_PREFIX, autoescape=True))
        .distinct(),
    )
    for entry in registry.tables:
        if entry.by_pseudonym and entry.time_column is not None:
            when = utc_day(conn, entry.time_column)
            found |= _days(
                conn,
                select(when)
                .where(entry.table.c.tenant_id == tenant_id, entry.key.startswith(DAILY_PREFIX, autoescape=True))
                .distinct(),
            )
    return found


def subject_pseudonyms(
    conn: Connection, *, keys: KeyProvider, tenant_id: str, subject_id: str, registry: PersonalDataRegistry
) -> set[str]:
    """The stable pseudonym and every daily one the subject's stored rows may carry."""
    days = candidate_days(conn, tenant_id=tenant_id, registry=registry)
    return Pseudonymizer(keys).all_pseudonyms(tenant_id, subject_id, days)


# --- registry tables ------------------------------------------------------------------------------------


def _key_filters(entry: PersonalTable, tenant_id: str, subject_id: str, pseudonyms: set[str]) -> list[Any]:
    """One WHERE clause per IN-chunk (a single one for subject-key tables)."""
    in_tenant = entry.table.c.tenant_id == tenant_id
    if not entry.by_pseudonym:
        return [and_(in_tenant, entry.key == subject_id)]
    return [and_(in_tenant, entry.key.in_(part)) for part in chunks(pseudonyms)]


def select_rows(
    conn: Connection, entry: PersonalTable, *, tenant_id: str, subject_id: str, pseudonyms: set[str]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for where in _key_filters(entry, tenant_id, subject_id, pseudonyms):
        query = select(*entry.exported).where(where).order_by(*entry.order_by)
        rows.extend({str(k): v for k, v in row._mapping.items()} for row in conn.execute(query))
    return rows


def delete_rows(
    conn: Connection,
    entry: PersonalTable,
    *,
    tenant_id: str,
    subject_id: str,
    pseudonyms: set[str],
    until: datetime | None,
) -> int:
    deleted = 0
    for where in _key_filters(entry, tenant_id, subject_id, pseudonyms):
        statement = delete(entry.table).where(where)
        if until is not None and entry.time_column is not None:
            statement = statement.where(entry.time_column <= until)
        deleted += conn.execute(statement).rowcount
    return deleted


# --- events and dead letters ----------------------------------------------------------------------------


def select_events(conn: Connection, *, tenant_id: str, pseudonyms: set[str]) -> list[dict[str, Any]]:
    subject = event_subject()
    rows: list[dict[str, Any]] = []
    for part in chunks(pseudonyms):
        query = select(events).where(events.c.tenant_id == tenant_id, subject.in_(part)).order_by(events.c.seq)
        rows.extend({str(k): v for k, v in row._mapping.items()} for row in conn.execute(query))
    rows.sort(key=lambda row: row["seq"])
    return rows


def delete_events(conn: Connection, *, tenant_id: str, pseudonyms: set[str], until: datetime | None) -> int:
    subject = event_subject()
    deleted = 0
    for part in chunks(pseudonyms):
        statement: Delete = delete(events).where(events.c.tenant_id == tenant_id, subject.in_(part))
        if until is not None:
            statement = statement.where(events.c.received_at <= until)
        deleted += conn.execute(statement).rowcount
    return deleted


def delete_dead_letters(conn: Connection, *, tenant_id: str, needles: Sequence[str], until: datetime | None) -> int:
    """Dead letters of the tenant whose raw bytes contain one of ``needles`` (the subject id)."""
    deleted = 0
    for needle in needles:
        raw = needle.encode()
        contains: ColumnElement[bool] | TextClause
        if conn.dialect.name == "postgresql":  # exact byte search (LIKE would treat _ and % as wildcards)
            contains = text("position(CAST(:needle AS bytea) IN dead_letters.raw) > 0").bindparams(needle=raw)
        else:
            contains = func.instr(dead_letters.c.raw, raw) > 0
        statement = delete(dead_letters).where(dead_letters.c.tenant_id == tenant_id, contains)
        if until is not None:
            statement = statement.where(dead_letters.c.received_at <= until)
        deleted += conn.execute(statement).rowcount
    return deleted
