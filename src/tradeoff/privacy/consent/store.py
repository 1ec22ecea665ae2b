"""The consent ledger table: append-only, one row per purpose per change.

Rows are never updated; the state at any time is the latest row per purpose (by ``id``) recorded by then,
so the consent in force when any stored event was accepted can be reconstructed.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Table

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
PSEUDO = PrivacyClass.PSEUDONYMOUS

consent_records = Table(
    "consent_records",
    metadata,
    classified("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True, privacy=OPS),
    classified("tenant_id", String(32), nullable=False, privacy=OPS),
    classified("subject_id", String(32), nullable=False, privacy=PSEUDO, subject_key=True),
    classified("purpose", String(32), nullable=False, privacy=PSEUDO),
    classified("granted", Boolean(), nullable=False, privacy=PSEUDO),
    classified("requested", Boolean(), nullable=True, privacy=PSEUDO),
    classified("gpc", Boolean(), nullable=False, privacy=PSEUDO),
    classified("basis", String(16), nullable=False, privacy=PSEUDO),
    classified("policy_version", String(64), nullable=False, privacy=PSEUDO),
    classified("source", String(16), nullable=False, privacy=PSEUDO),
    classified("recorded_at", UtcDateTime(), nullable=False, privacy=PSEUDO),
    classified("renew_by", UtcDateTime(), nullable=True, privacy=PSEUDO),
    Index("ix_consent_records_tenant_id_subject_id_id", "tenant_id", "subject_id", "id"),
    info={"time_column": "recorded_at"},
)
