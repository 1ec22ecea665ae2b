"""Consent changes as use cases: each owns its transaction and, once committed, tells the consent caches
of this process, so the next event a withdrawn subject sends is already dropped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.privacy.audit.actors import SUBJECT
from tradeoff.privacy.audit.chain import Action
from tradeoff.privacy.audit.trail import AuditTrail
from tradeoff.privacy.consent.cache import notify_consent_changed
from tradeoff.privacy.consent.ledger import apply_gpc, consent_state, record_consent
from tradeoff.privacy.consent.model import Basis, ConsentRecord, ConsentState, Purpose, Source


@dataclass(frozen=True, slots=True)
class ConsentChange:
    changes: Mapping[Purpose, bool]
    policy_version: str
    source: Source
    gpc: bool = False


@dataclass(frozen=True, slots=True)
class ChangeResult:
    records: list[ConsentRecord]
    state: ConsentState

    @property
    def gpc_conflict(self) -> bool:
        return any(record.basis is Basis.GPC_CONFLICT for record in self.records)


def audit_consent(
    audit: AuditTrail | None,
    conn: Connection,
    *,
    tenant_id: str,
    subject_id: str,
    records: Sequence[ConsentRecord],
    actor: str,
) -> None:
    """Record a consent change (the records just appended) in the audit chain, in ``conn``'s transaction.
    The details are the records without the subject id (the chain stores a MAC of it)."""
    if audit is None or not records:
        return
    audit.record(
        conn,
        tenant_id=tenant_id,
        actor=actor,
        action=Action.CONSENT_CHANGED,
        subject_id=subject_id,
        details={"records": [record.to_json() for record in records]},
    )


def change_consent(
    engine: Engine,
    *,
    tenant_id: str,
    subject_id: str,
    change: ConsentChange,
    at: datetime,
    audit: AuditTrail | None = None,
    actor: str = SUBJECT,
) -> ChangeResult:
    """Append the change and, with ``audit``, its ``consent.changed`` entry in the same transaction."""
    with write_transaction(engine) as conn:
        scope_to_tenant(conn, tenant_id)
        records = record_consent(
            conn,
            tenant_id=tenant_id,
            subject_id=subject_id,
            changes=change.changes,
            policy_version=change.policy_version,
            source=change.source,
            gpc=change.gpc,
            at=at,
        )
        audit_consent(audit, conn, tenant_id=tenant_id, subject_id=subject_id, records=records, actor=actor)
        state = consent_state(conn, tenant_id=tenant_id, subject_id=subject_id)
    notify_consent_changed(tenant_id, subject_id)
    return ChangeResult(records, state)


def honour_gpc(
    engine: Engine,
    *,
    tenant_id: str,
    subject_id: str,
    source: Source,
    at: datetime,
    audit: AuditTrail | None = None,
    actor: str = SUBJECT,
) -> list[ConsentRecord]:
    """Record a GPC signal seen on a request: GPC-restricted grants in force are withdrawn (and, with
    ``audit``, the withdrawal is recorded in the audit chain in the same transaction)."""
    with write_transaction(engine) as conn:
        scope_to_tenant(conn, tenant_id)
        records = apply_gpc(conn, tenant_id=tenant_id, subject_id=subject_id, source=source, at=at)
        audit_consent(audit, conn, tenant_id=tenant_id, subject_id=subject_id, records=records, actor=actor)
    if records:
        notify_consent_changed(tenant_id, subject_id)
    return records
