"""offer delivery: the app's webhook endpoints (secrets derived, never stored) and delivery receipts

Revision ID: 0008_offer_delivery
Revises: 0007_store_setup
Create Date: 2026-11-29 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradeoff.platform.db.types

revision = "0008_offer_delivery"
down_revision = "0007_store_setup"
branch_labels = None
depends_on = None

UtcDateTime = tradeoff.platform.db.types.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "offer_webhook_endpoints",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret_version", sa.Integer(), nullable=False),
        sa.Column("previous_valid_until", UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_offer_webhook_endpoints_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_webhook_endpoints")),
    )
    with op.batch_alter_table("offer_webhook_endpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_webhook_endpoints_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "offer_receipts",
        sa.Column("coupon_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("delivered_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("delivered_via", sa.String(length=16), nullable=True),
        sa.Column("displayed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_offer_receipts_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("coupon_id", name=op.f("pk_offer_receipts")),
        info={"time_column": "created_at"},
    )
    with op.batch_alter_table("offer_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_receipts_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_offer_receipts_tenant_id_pseudonym", ["tenant_id", "pseudonym"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("offer_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_receipts_tenant_id_pseudonym")
        batch_op.drop_index(batch_op.f("ix_offer_receipts_tenant_id"))

    op.drop_table("offer_receipts")
    with op.batch_alter_table("offer_webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_webhook_endpoints_tenant_id"))

    op.drop_table("offer_webhook_endpoints")
