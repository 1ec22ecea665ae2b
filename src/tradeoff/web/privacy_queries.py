"""Read model for the merchant privacy page: every open subject's current tier. Nothing here leaves the
server unreleased: the tiers only feed the release guard (``merchant_privacy``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select

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
    """The consent state of every open subject of the tenant, in one query (the ledger's rule, in bulk:
    the latest record per purpose; ``ConsentState.allows`` still decides what is in force)."""
    # The latest record ids as a derived table joined in (not ``id IN (subquery)`` inside the outer join's
    # condition, which PostgreSQL can only run as a subplan per joined row: seconds for a few thousand)
    latest = (
        select(func.max(cr.c.id).label("id"))
        .where(cr.c.tenant_id == tenant_id)
        .group_by(cr.c.subject_id, cr.c.purpose)
        .subquery()
    )
    newest = select(cr).join(latest, latest.c.id == cr.c.id).subquery()
    joined = subjects.outerjoin(
        newest, and_(newest.c.tenant_id == subjects.c.tenant_id, newest.c.subject_id == subjects.c.subject_id)
    )
    query = (
        select(subjects.c.subject_id.label("sid"), *[newest.c[name] for name in _RECORD_FIELDS])
        .select_from(joined)
        .where(subjects.c.tenant_id == tenant_id, subjects.c.closed_at.is_(None))
        .order_by(subjects.c.subject_id)
    )
    latest_by_subject: dict[str, dict[Purpose, ConsentRecord]] = defaultdict(dict)
    for row in conn.execute(query):
        records = latest_by_subject[row.sid]
        if row.id is not None and row.purpose in _PURPOSES:
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
