"""Retention for people: a subject with no purpose in force for ``grace_days`` is erased.

Consent lapses at its renewal date (24 months) or when withdrawn. Keeping the subject's keys, consent
history and events after that serves nothing the shopper agreed to, so the retention job erases it the
same way a request would (audited, crypto-shredded, replayed after restores) with the actor
``retention``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from tradeoff.privacy.audit import AuditTrail
from tradeoff.privacy.consent.ledger import consent_state
from tradeoff.privacy.consent.store import consent_records
from tradeoff.privacy.dsr.service import RequestedBy, erase
from tradeoff.privacy.subjects.store import subjects
from tradeoff.privacy.vault.service import Vault

DEFAULT_GRACE_DAYS = 90
ACTOR = "retention"


def lapsed_subjects(
    engine: Engine, *, now: datetime, grace_days: int = DEFAULT_GRACE_DAYS
) -> Iterator[tuple[str, str]]:
    """(tenant_id, subject_id) of open subjects with nothing in force and no consent change for the grace
    period (a subject who never consented counts from its registration)."""
    cutoff = now - timedelta(days=grace_days)
    last_change = (
        select(consent_records.c.subject_id, func.max(consent_records.c.recorded_at).label("at"))
        .group_by(consent_records.c.subject_id)
        .subquery()
    )
    query = (
        select(subjects.c.tenant_id, subjects.c.subject_id)
        .outerjoin(last_change, last_change.c.subject_id == subjects.c.subject_id)
        .where(subjects.c.closed_at.is_(None), func.coalesce(last_change.c.at, subjects.c.created_at) < cutoff)
        .order_by(subjects.c.tenant_id, subjects.c.subject_id)
    )
    with engine.connect() as conn:
        candidates = conn.execute(query).all()
        for tenant_id, subject_id in candidates:
            state = consent_state(conn, tenant_id=tenant_id, subject_id=subject_id, at=now)
            expired_long_enough = not state.purposes(now) and not state.purposes(cutoff)
            if expired_long_enough:
                yield tenant_id, subject_id


def erase_lapsed(
    engine: Engine, *, vault: Vault, audit: AuditTrail, now: datetime, grace_days: int = DEFAULT_GRACE_DAYS
) -> int:
    """Erase every lapsed subject; returns how many (each in its own transaction)."""
    found = list(lapsed_subjects(engine, now=now, grace_days=grace_days))
    for tenant_id, subject_id in found:
        erase(
            engine,
            tenant_id=tenant_id,
            subject_id=subject_id,
            vault=vault,
            audit=audit,
            actor=ACTOR,
            requested_by=RequestedBy.RETENTION,
        )
    return len(found)
