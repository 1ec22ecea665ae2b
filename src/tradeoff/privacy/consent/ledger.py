"""Reading and appending the consent ledger on a connection the caller owns.

Writers that own their transaction should use ``service`` instead, which also tells consent caches in
this process after the commit (that is what makes a withdrawal apply to the very next event).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import BindParameter, Connection, Select, and_, bindparam, func, insert, select

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
    mapping = row._mapping  # a new view on every access
    values = {name: mapping[name] for name in _FIELDS}
    values["purpose"] = Purpose(values["purpose"])
    values["basis"] = Basis(values["basis"])
    values["source"] = Source(values["source"])
    return ConsentRecord(**values)


def _state_query(*, with_at: bool) -> Select[Any]:
    """The query behind ``consent_state``, built once with bound parameters (building it per call cost
    as much as running it)."""
    tenant_id: BindParameter[str] = bindparam("tenant_id")
    subject_id: BindParameter[str] = bindparam("subject_id")
    latest = select(func.max(cr.c.id)).where(cr.c.tenant_id == tenant_id, cr.c.subject_id == subject_id)
    if with_at:
        latest = latest.where(cr.c.recorded_at <= bindparam("at"))
    joined = subjects.outerjoin(
        cr,
        and_(
            cr.c.tenant_id == subjects.c.tenant_id,
            cr.c.subject_id == subjects.c.subject_id,
            cr.c.id.in_(latest.group_by(cr.c.purpose).scalar_subquery()),
        ),
    )
    return (
        select(subjects.c.closed_at, *_RECORD_COLUMNS)
        .select_from(joined)
        .where(subjects.c.tenant_id == tenant_id, subjects.c.subject_id == subject_id)
    )


_STATE_NOW = _state_query(with_at=False)
_STATE_AT = _state_query(with_at=True)


def consent_state(conn: Connection, *, tenant_id: str, subject_id: str, at: datetime | None = None) -> ConsentState:
    """The latest record per purpose; ``at=None`` for now, else as recorded by ``at`` (reconstruction)."""
    if at is None:
        rows = conn.execute(_STATE_NOW, {"tenant_id": tenant_id, "subject_id": subject_id}).all()
    else:
        rows = conn.execute(_STATE_AT, {"tenant_id": tenant_id, "subject_id": subject_id, "at": at}).all()
    return _state_of_rows(tenant_id, subject_id, rows, at)


BATCH_CHUNK = 500  # subjects per query in ``consent_states`` (well under every backend's bound-parameter limit)


_SUBJECTS_BY_ID = select(subjects.c.subject_id, subjects.c.tenant_id, subjects.c.closed_at).where(
    # by primary key only (a random id, unique across tenants), the tenant checked on the rows: with
    # ``tenant_id = ?`` in the query SQLite walks every subject of the tenant instead
    subjects.c.subject_id.in_(bindparam("subject_ids", expanding=True))
)


def _records_query(*, with_at: bool) -> Select[Any]:
    query = select(*_RECORD_COLUMNS).where(
        cr.c.tenant_id == bindparam("tenant_id"), cr.c.subject_id.in_(bindparam("subject_ids", expanding=True))
    )
    if with_at:
        query = query.where(cr.c.recorded_at <= bindparam("at"))
    return query.order_by(cr.c.id)


_RECORDS_NOW = _records_query(with_at=False)
_RECORDS_AT = _records_query(with_at=True)


def consent_states(
    conn: Connection, *, tenant_id: str, subject_ids: Iterable[str], at: datetime | None = None
) -> dict[str, ConsentState]:
    """``consent_state`` for many subjects of one tenant, read on ``conn`` (the caller's transaction) with
    two index-driven queries per ``BATCH_CHUNK`` subjects: the subjects by primary key, then their ledger
    rows (the latest per purpose is picked here, by ``id`` as in ``consent_state``). Every subject asked
    about is in the answer (an unknown one, or one of another tenant, as ``known=False``)."""
    wanted = sorted(set(subject_ids))
    found: dict[str, ConsentState] = {}
    for start in range(0, len(wanted), BATCH_CHUNK):
        chunk = wanted[start : start + BATCH_CHUNK]
        closed: dict[str, datetime | None] = {
            row.subject_id: row.closed_at
            for row in conn.execute(_SUBJECTS_BY_ID, {"subject_ids": chunk})
            if row.tenant_id == tenant_id
        }
        latest: dict[str, dict[str, Any]] = {subject_id: {} for subject_id in closed}
        if closed:
            params: dict[str, Any] = {"tenant_id": tenant_id, "subject_ids": list(closed)}
            if at is not None:
                params["at"] = at
            for row in conn.execute(_RECORDS_NOW if at is None else _RECORDS_AT, params):
                latest[row.subject_id][row.purpose] = row  # ascending ids: the last one per purpose wins
        for subject_id in chunk:
            if subject_id not in closed:
                found[subject_id] = ConsentState(tenant_id=tenant_id, subject_id=subject_id, known=False, latest={})
                continue
            closed_at = closed[subject_id]
            kept = [_record(row) for purpose, row in latest[subject_id].items() if purpose in _PURPOSES]
            found[subject_id] = ConsentState(
                tenant_id=tenant_id,
                subject_id=subject_id,
                known=closed_at is None or (at is not None and at < closed_at),
                latest={record.purpose: record for record in kept},
            )
    return found


def _state_of_rows(tenant_id: str, subject_id: str, rows: Sequence[Any], at: datetime | None) -> ConsentState:
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
