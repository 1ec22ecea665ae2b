"""offer segments: the tenant's segment catalogue and the segments each shopper released (encrypted)

Revision ID: 0010_offer_segments
Revises: 0009_zone_models
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradeoff.platform.db.types

revision = "0010_offer_segments"
down_revision = "0009_zone_models"
branch_labels = None
depends_on = None

UtcDateTime = tradeoff.platform.db.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "offer_segments",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_offer_segments_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_offer_segments")),
    )
    op.create_table(
        "offer_preferences",
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("segments", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_offer_preferences_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_offer_preferences")),
    )
    op.create_index(op.f("ix_offer_preferences_tenant_id"), "offer_preferences", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_offer_preferences_tenant_id"), table_name="offer_preferences")
    op.drop_table("offer_preferences")
    op.drop_table("offer_segments")
