"""Audit tables: the per-tenant hash-chained log and its signed checkpoints.

Nothing here names a person: ``subject_ref`` is a keyed MAC of the subject id under the tenant's
``audit-subject`` key, and ``details`` must not carry personal data (``chain.check_details`` refuses the
obvious forms). Rows are never updated. The columns declare no retention for the generic retention job
(deleting old rows by age would cut the chain's head); ``AuditTrail.prune`` is this table's retention:
it deletes entries older than ``AUDIT_RETENTION_DAYS`` up to a signed checkpoint and records the prune.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Index, String, Table, Text

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
PSEUDO = PrivacyClass.PSEUDONYMOUS

AUDIT_RETENTION_DAYS = 2190  # six years; applied by ``AuditTrail.prune``, not by the generic retention job

audit_log = Table(
    "audit_log",
    metadata,
    classified("tenant_id", String(32), primary_key=True, privacy=OPS),
    classified("seq", BigInteger(), primary_key=True, autoincrement=False, privacy=OPS),
    classified("recorded_at", UtcDateTime(), nullable=False, privacy=OPS),
    # who acted: a user id, an API key id or "system" — staff and credentials, not data subjects
    classified("actor", String(128), nullable=False, privacy=OPS),
    classified("action", String(64), nullable=False, privacy=OPS),
    # HMAC(k_audit-subject(tenant), subject_id), hex; never the raw id. Kept after erasure as proof of it.
    classified("subject_ref", String(64), nullable=True, privacy=PSEUDO),
    classified("details", JSON(), nullable=False, privacy=OPS),
    classified("prev_mac", String(64), nullable=False, privacy=OPS),
    classified("mac", String(64), nullable=False, privacy=OPS),
    Index("ix_audit_log_tenant_id_subject_ref", "tenant_id", "subject_ref"),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    classified("tenant_id", String(32), primary_key=True, privacy=OPS),
    classified("seq", BigInteger(), primary_key=True, autoincrement=False, privacy=OPS),
    classified("mac", String(64), nullable=False, privacy=OPS),
    classified("signed_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("key_id", String(32), nullable=False, privacy=OPS),
    classified("signature", Text(), nullable=False, privacy=OPS),
)
