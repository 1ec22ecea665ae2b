"""Release-guard tables: per-tenant ε budgets, the spend ledger and the releases already published."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Date, Float, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
ANON = PrivacyClass.ANONYMOUS

LEDGER_RETENTION_DAYS = 800  # two years of accounting, then only the aggregate story remains

BigId = BigInteger().with_variant(Integer(), "sqlite")

privacy_budget_config = Table(
    "privacy_budget_config",
    metadata,
    classified("tenant_id", String(32), primary_key=True, privacy=OPS),
    classified("epsilon_per_week", Float(), nullable=False, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("updated_by", String(128), nullable=False, privacy=OPS),
)

privacy_releases = Table(
    "privacy_releases",
    metadata,
    classified("id", BigId, primary_key=True, autoincrement=True, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("tenant_id", String(32), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("period_start", Date(), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("query_name", String(200), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    # SHA-256 of the query's parameters (statistic, ε, bounds, k, δ, public groups)
    classified("fingerprint", String(64), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("statistic", String(16), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("epsilon", Float(), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("delta", Float(), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("released_at", UtcDateTime(), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    # the published numbers exactly as released (already noisy and thresholded): repeats return these
    classified("result", JSON(), nullable=False, privacy=ANON, retention_days=LEDGER_RETENTION_DAYS),
    UniqueConstraint("tenant_id", "period_start", "query_name", "fingerprint", name="uq_privacy_releases_query"),
    info={"time_column": "released_at"},  # what retention measures age by
)

privacy_budget_spend = Table(
    "privacy_budget_spend",
    metadata,
    classified("id", BigId, primary_key=True, autoincrement=True, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("tenant_id", String(32), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("period_start", Date(), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("query_name", String(200), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("epsilon", Float(), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("delta", Float(), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified("spent_at", UtcDateTime(), nullable=False, privacy=OPS, retention_days=LEDGER_RETENTION_DAYS),
    classified(
        "release_id",
        BigId,
        ForeignKey("privacy_releases.id", ondelete="SET NULL"),
        nullable=True,
        privacy=OPS,
        retention_days=LEDGER_RETENTION_DAYS,
    ),
    Index("ix_privacy_budget_spend_tenant_id_period_start", "tenant_id", "period_start"),
    info={"time_column": "spent_at"},
)
