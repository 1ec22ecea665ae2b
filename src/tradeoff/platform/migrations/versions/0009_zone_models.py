"""presence zone models: a calibrated fingerprint model installed per site for live tracking

Revision ID: 0009_zone_models
Revises: 0008_offer_delivery
Create Date: 2026-11-29 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradeoff.platform.db.types

revision = "0009_zone_models"
down_revision = "0008_offer_delivery"
branch_labels = None
depends_on = None

UtcDateTime = tradeoff.platform.db.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "presence_zone_models",
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("zone_map", sa.JSON(), nullable=False),
        sa.Column("receiver_map", sa.JSON(), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("receivers", sa.JSON(), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_presence_zone_models_site_id_sites")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_presence_zone_models_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_presence_zone_models")),
    )
    op.create_index(op.f("ix_presence_zone_models_tenant_id"), "presence_zone_models", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_presence_zone_models_tenant_id"), table_name="presence_zone_models")
    op.drop_table("presence_zone_models")
