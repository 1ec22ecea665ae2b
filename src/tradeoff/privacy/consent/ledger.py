"""Reading and appending the consent ledger on a connection the caller owns.

Writers that own their transaction should use ``service`` instead, which also tells consent caches in
this process after the commit (that is what makes a withdrawal apply to the very next event).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, and_, func, insert, select

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import InvalidInput, NotFound
from tradeoff.privacy.consent.model import (
    RENEWAL_PERIOD,
    Basis,
    ConsentRecord,
    ConsentState,
    Decision,
    Purpose,
    Source,
    decide,
)
from tradeoff.privacy.consent.store import consent_records as cr
from tradeoff.privacy.subjects.store import subjects

_PURPOSES = {purpose.value for purpose in Purpose}
_FIELDS = [field.name for field in fields(ConsentRecord)]
_RECORD_COLUMNS = [cr.c[name] for name in _FIELDS]


class ConsentReader(Protocol):
    """Anything that can give a subject's consent state: a cache, or a connection via ``consent_state``."""

    def state(self, *, tenant_id: str, subject_id: str, at: datetime | None = None) -> ConsentState: ...


def _record(row: Any) -> ConsentRecord:
    values = {name: row._mapping[name] for name in _FIELDS}
    values["purpose"] = Purpose(values["purpose"])
    values["basis"] = Basis(values["basis"])
    values["source"] = Source(values["source"])
    return ConsentRecord(**values)


def consent_state(conn: Connection, *, tenant_id: str, subject_id: str, at: datetime | None = None) -> ConsentState:
    """The latest record per purpose; ``at=None`` for now, else as recorded by ``at`` (reconstruction)."""
    latest = select(func.max(cr.c.id)).where(cr.c.tenant_id == tenant_id, cr.c.subject_id == subject_id)
    if at is not None:
        latest = latest.where(cr.c.recorded_at <= at)
    joined = subjects.outerjoin(
        cr,
        and_(
            cr.c.tenant_id == subjects.c.tenant_id,
            cr.c.subject_id == subjects.c.subject_id,
            cr.c.id.in_(latest.group_by(cr.c.purpose).scalar_subquery()),
        ),
    )
    query = (
        select(subjects.c.closed_at, *_RECORD_COLUMNS)
        .select_from(joined)
        .where(subjects.c.tenant_id == tenant_id, subjects.c.subject_id == subject_id)
    )
    rows = conn.execute(query).all()
    if not rows:
        return ConsentState(tenant_id=tenant_id, subject_id=subject_id, known=False, latest={})
    closed_at = rows[0].closed_at
    known = closed_at is None or (at is not None and at < closed_at)
    records = [_record(row) for row in rows if row.id is not None and row.purpose in _PURPOSES]
    return ConsentState(tenant_id=tenant_id, subject_id=subject_id, known=known, latest={r.purpose: r for r in records})


def consent_history(conn: Connection, *, tenant_id: str, subject_id: str) -> list[ConsentRecord]:
    query = select(*_RECORD_COLUMNS).where(cr.c.tenant_id == tenant_id, cr.c.subject_id == subject_id).order_by(cr.c.id)
    return [_record(row) for row in conn.execute(query) if row.purpose in _PURPOSES]


def may(
    source: Connection | ConsentReader,
    *,
    tenant_id: str,
    subject_id: str,
    purpose: Purpose | str,
    at: datetime | None = None,
) -> bool:
    """May ``purpose`` be applied to ``subject_id`` now (``at=None``), or as things stood at ``at``?"""
    if isinstance(source, Connection):
        state = consent_state(source, tenant_id=tenant_id, subject_id=subject_id, at=at)
    else:
        state = source.state(tenant_id=tenant_id, subject_id=subject_id, at=at)
    return state.allows(Purpose(purpose), at or utcnow())


def record_consent(
    conn: Connection,
    *,
    tenant_id: str,
    subject_id: str,
    changes: Mapping[Purpose, bool],
    policy_version: str,
    source: Source,
    gpc: bool,
    at: datetime,
) -> list[ConsentRecord]:
    """Append one record per purpose in ``changes`` (a re-grant renews), applying the GPC rule of
    ``model.decide``. Raises ``NotFound`` for an unknown or closed subject."""
    if not policy_version.strip():
        raise InvalidInput("policy_version", "required: the version of the policy text the subject saw")
    state = consent_state(conn, tenant_id=tenant_id, subject_id=subject_id)
    if not state.known:
        raise NotFound("no such subject in this tenant")
    decisions = decide(changes, gpc=gpc, in_force=state.purposes(at))
    return [_append(conn, state, d, policy_version=policy_version, source=source, gpc=gpc, at=at) for d in decisions]


def apply_gpc(
    conn: Connection, *, tenant_id: str, subject_id: str, source: Source, at: datetime
) -> list[ConsentRecord]:
    """A GPC signal arrived: withdraw the GPC-restricted purposes still in force (nothing if none)."""
    state = consent_state(conn, tenant_id=tenant_id, subject_id=subject_id)
    if not state.known:
        return []
    decisions = decide({}, gpc=True, in_force=state.purposes(at))
    return [
        _append(conn, state, d, policy_version=state.latest[d.purpose].policy_version, source=source, gpc=True, at=at)
        for d in decisions
    ]


def _append(
    conn: Connection,
    state: ConsentState,
    decision: Decision,
    *,
    policy_version: str,
    source: Source,
    gpc: bool,
    at: datetime,
) -> ConsentRecord:
    values: dict[str, Any] = {
        "tenant_id": state.tenant_id,
        "subject_id": state.subject_id,
        "purpose": decision.purpose.value,
        "granted": decision.granted,
        "requested": decision.requested,
        "gpc": gpc,
        "basis": decision.basis.value,
        "policy_version": policy_version,
        "source": source.value,
        "recorded_at": at,
        "renew_by": at + RENEWAL_PERIOD if decision.granted else None,
    }
    record_id = conn.execute(insert(cr).values(**values).returning(cr.c.id)).scalar_one()
    values.update(id=record_id, purpose=decision.purpose, basis=decision.basis, source=source)
    return ConsentRecord(**values)
