"""privacy audit chain and release guard

Revision ID: 0004_audit_release
Revises: 0003_consent
Create Date: 2026-11-29 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradeoff.platform.db.types

revision = "0004_audit_release"
down_revision = "0003_consent"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_mac", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_tenant_id_subject_ref", ["tenant_id", "subject_ref"], unique=False)

    op.create_table(
        "audit_checkpoints",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("signed_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "privacy_budget_config",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("epsilon_per_week", sa.Float(), nullable=False),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_privacy_budget_config")),
    )
    op.create_table(
        "privacy_releases",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("query_name", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("statistic", sa.String(length=16), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("released_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_releases")),
        sa.UniqueConstraint("tenant_id", "period_start", "query_name", "fingerprint", name="uq_privacy_releases_query"),
    )
    op.create_table(
        "privacy_budget_spend",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("query_name", sa.String(length=200), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("spent_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("release_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["privacy_releases.id"],
            name=op.f("fk_privacy_budget_spend_release_id_privacy_releases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_budget_spend")),
    )
    with op.batch_alter_table("privacy_budget_spend", schema=None) as batch_op:
        batch_op.create_index(
            "ix_privacy_budget_spend_tenant_id_period_start", ["tenant_id", "period_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("privacy_budget_spend", schema=None) as batch_op:
        batch_op.drop_index("ix_privacy_budget_spend_tenant_id_period_start")

    op.drop_table("privacy_budget_spend")
    op.drop_table("privacy_releases")
    op.drop_table("privacy_budget_config")
    op.drop_table("audit_checkpoints")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_tenant_id_subject_ref")

    op.drop_table("audit_log")
