"""DSR use cases that own their transaction (the API and the CLI call these), each audited in it.

- ``export_for``: ``dsr.export`` (and ``personal.read`` when staff or the CLI read it) in the same
  transaction as the read, so no export is handed out unrecorded.
- ``erase``: ``erase_subject`` in one write transaction, then the consent caches of this process forget
  the subject.
- ``dsr_log``: the DSR entries of a tenant's audit chain (no subject reference, no personal data).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, select

from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.privacy.audit.chain import Action
from tradeoff.privacy.audit.store import audit_log
from tradeoff.privacy.audit.trail import AuditTrail
from tradeoff.privacy.consent.cache import notify_consent_changed
from tradeoff.privacy.dsr.erase import ErasureReport, erase_subject
from tradeoff.privacy.dsr.export import export_subject, summary
from tradeoff.privacy.dsr.registry import PersonalDataRegistry
from tradeoff.privacy.vault.service import Vault

DSR_ACTIONS = (Action.DSR_EXPORT.value, Action.DSR_ERASE.value)


class RequestedBy(StrEnum):
    SUBJECT = "subject"  # the shopper's app, with its app token
    STAFF = "staff"  # an admin of the tenant, over the API
    CLI = "cli"  # an operator, with the tradeoff command
    RETENTION = "retention"  # the retention job: nothing consented for the grace period


def export_for(
    engine: Engine,
    *,
    tenant_id: str,
    subject_id: str,
    vault: Vault,
    audit: AuditTrail,
    actor: str,
    requested_by: RequestedBy,
    registry: PersonalDataRegistry | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    with write_transaction(engine) as conn:
        scope_to_tenant(conn, tenant_id)
        document = export_subject(
            conn,
            tenant_id=tenant_id,
            subject_id=subject_id,
            vault=vault,
            registry=registry,
            audit_keys=audit.keys,
            at=at,
        )
        counts = summary(document)
        details = {"requested_by": requested_by.value, **counts}
        audit.record(
            conn, tenant_id=tenant_id, actor=actor, action=Action.DSR_EXPORT, subject_id=subject_id, details=details
        )
        if requested_by is not RequestedBy.SUBJECT:
            audit.record(
                conn,
                tenant_id=tenant_id,
                actor=actor,
                action=Action.PERSONAL_READ,
                subject_id=subject_id,
                details={"reason": "dsr.export", **counts},
            )
    return document


def erase(
    engine: Engine,
    *,
    tenant_id: str,
    subject_id: str,
    vault: Vault,
    audit: AuditTrail,
    actor: str,
    requested_by: RequestedBy,
    registry: PersonalDataRegistry | None = None,
) -> ErasureReport:
    with write_transaction(engine) as conn:
        scope_to_tenant(conn, tenant_id)
        report = erase_subject(
            conn,
            tenant_id=tenant_id,
            subject_id=subject_id,
            vault=vault,
            audit=audit,
            actor=actor,
            requested_by=requested_by.value,
            registry=registry,
        )
    notify_consent_changed(tenant_id, subject_id)
    return report


def dsr_log(conn: Connection, *, tenant_id: str, limit: int = 100, before_seq: int | None = None) -> dict[str, Any]:
    """Newest first: ``{"entries": [{seq, recorded_at, actor, action, details}], "next_before_seq"}``."""
    query = select(
        audit_log.c.seq, audit_log.c.recorded_at, audit_log.c.actor, audit_log.c.action, audit_log.c.details
    ).where(audit_log.c.tenant_id == tenant_id, audit_log.c.action.in_(DSR_ACTIONS))
    if before_seq is not None:
        query = query.where(audit_log.c.seq < before_seq)
    rows = conn.execute(query.order_by(audit_log.c.seq.desc()).limit(limit + 1)).all()
    entries = [
        {
            "seq": int(row.seq),
            "recorded_at": row.recorded_at.isoformat(),
            "actor": row.actor,
            "action": row.action,
            "details": row.details or {},
        }
        for row in rows[:limit]
    ]
    return {"entries": entries, "next_before_seq": entries[-1]["seq"] if len(rows) > limit else None}
