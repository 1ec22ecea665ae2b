"""Read model for the merchant privacy page: every open subject's current tier. Nothing here leaves the
server unreleased: the tiers only feed the release guard (``merchant_privacy``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.privacy.consent import Basis, ConsentRecord, ConsentState, Purpose, Source
from tradeoff.privacy.consent.store import consent_records as cr
from tradeoff.privacy.subjects.store import subjects

_RECORD_FIELDS = [f.name for f in fields(ConsentRecord)]
_PURPOSES = {purpose.value for purpose in Purpose}


def _record(row: Any) -> ConsentRecord:
    values = {name: row._mapping[name] for name in _RECORD_FIELDS}
    values |= {
        "purpose": Purpose(values["purpose"]),
        "basis": Basis(values["basis"]),
        "source": Source(values["source"]),
    }
    return ConsentRecord(**values)


def current_consent(conn: Connection, *, tenant_id: str) -> Iterator[ConsentState]:
    """The consent state of every open subject of the tenant (the ledger's rule, in bulk: the latest record
    per purpose; ``ConsentState.allows`` still decides what is in force), in subject order.

    Two single-table queries, matched here: the open subjects, then the tenant's latest ledger row per
    (subject, purpose), picked by a window function. No join on purpose: a join with the per-purpose
    latest rows lets PostgreSQL choose a nested loop that recomputes them for every row of the outer side
    whenever it expects a handful of rows — as it does on tables never analysed (a new database, or
    autovacuum off): the whole-tenant aggregate ran once per ledger row, quadratic, 10 s for a few hundred
    shoppers. A window over one table's rows is one sort, whatever the estimates."""
    open_subjects = conn.execute(
        select(subjects.c.subject_id)
        .where(subjects.c.tenant_id == tenant_id, subjects.c.closed_at.is_(None))
        .order_by(subjects.c.subject_id)
    ).scalars()
    latest_by_subject: dict[str, dict[Purpose, ConsentRecord]] = {subject_id: {} for subject_id in open_subjects}
    newest_first = func.row_number().over(partition_by=(cr.c.subject_id, cr.c.purpose), order_by=cr.c.id.desc())
    ranked = select(cr, newest_first.label("nth")).where(cr.c.tenant_id == tenant_id).subquery()
    latest = select(*[ranked.c[name] for name in _RECORD_FIELDS]).where(ranked.c.nth == 1)
    for row in conn.execute(latest):
        records = latest_by_subject.get(row.subject_id)  # None: closed, or registered after the first query
        if records is not None and row.purpose in _PURPOSES:
            record = _record(row)
            records[record.purpose] = record
    for subject_id, records in latest_by_subject.items():
        yield ConsentState(tenant_id=tenant_id, subject_id=subject_id, known=True, latest=records)


def subject_tiers(engine: Engine, *, tenant_id: str, at: datetime) -> Iterator[tuple[str, int]]:
    """``(subject, tier)`` for every open subject, read lazily: the release guard consumes these rows only
    when the week's release is not cached yet."""
    with engine.connect() as conn:
        scope_to_tenant(conn, tenant_id)
        states = list(current_consent(conn, tenant_id=tenant_id))
    for state in states:
        yield state.subject_id, state.tier(at)
