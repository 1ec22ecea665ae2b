"""offers and presence: campaigns, decision ledger, coupons, counters, outbox; zone occupancy, visits

Revision ID: 0006_offers
Revises: 0005_vending
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradeoff.platform.db.types

revision = "0006_offers"
down_revision = "0005_vending"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offer_campaigns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("starts_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_offer_campaigns_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_campaigns")),
    )
    with op.batch_alter_table("offer_campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_campaigns_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_offer_campaigns_tenant_id_status", ["tenant_id", "status"], unique=False)

    op.create_table(
        "offer_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("occasion", sa.String(length=200), nullable=False),
        sa.Column("trigger_event_id", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("coupon_id", sa.String(length=32), nullable=True),
        sa.Column("decided_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_offer_decisions_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_decisions")),
        sa.UniqueConstraint(
            "tenant_id",
            "campaign_id",
            "pseudonym",
            "occasion",
            name=op.f("uq_offer_decisions_tenant_id_campaign_id_pseudonym_occasion"),
        ),
        info={"time_column": "decided_at"},
    )
    with op.batch_alter_table("offer_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_decisions_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_offer_decisions_tenant_id_pseudonym_decided_at", ["tenant_id", "pseudonym", "decided_at"], unique=False
        )

    op.create_table(
        "offer_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("coupon_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_offer_outbox_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_outbox")),
        sa.UniqueConstraint(
            "tenant_id", "coupon_id", "channel", name=op.f("uq_offer_outbox_tenant_id_coupon_id_channel")
        ),
        info={"time_column": "created_at"},
    )
    with op.batch_alter_table("offer_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_offer_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_offer_outbox_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "offer_settings",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("fatigue_per_day", sa.Integer(), nullable=False),
        sa.Column("fatigue_min_gap_s", sa.Float(), nullable=False),
        sa.Column("next_serial", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_offer_settings_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_offer_settings")),
    )
    op.create_table(
        "presence_visits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("entered_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("exited_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("dwell_s", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_presence_visits_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_visits")),
        sa.UniqueConstraint("tenant_id", "event_id", name=op.f("uq_presence_visits_tenant_id_event_id")),
        info={"time_column": "entered_at"},
    )
    with op.batch_alter_table("presence_visits", schema=None) as batch_op:
        batch_op.create_index("ix_presence_visits_tenant_id_entered_at", ["tenant_id", "entered_at"], unique=False)
        batch_op.create_index("ix_presence_visits_tenant_id_pseudonym", ["tenant_id", "pseudonym"], unique=False)

    op.create_table(
        "presence_zone_occupancy",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("occupants", sa.Integer(), nullable=False),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_presence_zone_occupancy_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "zone", name=op.f("pk_presence_zone_occupancy")),
    )
    op.create_table(
        "offer_campaign_counters",
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("held_out", sa.Integer(), nullable=False),
        sa.Column("redeemed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["offer_campaigns.id"], name=op.f("fk_offer_campaign_counters_campaign_id_offer_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_offer_campaign_counters_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_offer_campaign_counters")),
    )
    with op.batch_alter_table("offer_campaign_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_campaign_counters_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "offer_coupons",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=True),
        sa.Column("hold_until", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("rolled_back_by", sa.String(length=128), nullable=True),
        sa.Column("void_reason", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("redeemed_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["offer_campaigns.id"], name=op.f("fk_offer_coupons_campaign_id_offer_campaigns")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_offer_coupons_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_coupons")),
        sa.UniqueConstraint("tenant_id", "serial", name=op.f("uq_offer_coupons_tenant_id_serial")),
        info={"time_column": "issued_at"},
    )
    with op.batch_alter_table("offer_coupons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_coupons_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_offer_coupons_tenant_id_pseudonym", ["tenant_id", "pseudonym"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("offer_coupons", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_coupons_tenant_id_pseudonym")
        batch_op.drop_index(batch_op.f("ix_offer_coupons_tenant_id"))

    op.drop_table("offer_coupons")
    with op.batch_alter_table("offer_campaign_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_campaign_counters_tenant_id"))

    op.drop_table("offer_campaign_counters")
    op.drop_table("presence_zone_occupancy")
    with op.batch_alter_table("presence_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_presence_visits_tenant_id_pseudonym")
        batch_op.drop_index("ix_presence_visits_tenant_id_entered_at")

    op.drop_table("presence_visits")
    op.drop_table("offer_settings")
    with op.batch_alter_table("offer_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offer_outbox_tenant_id"))
        batch_op.drop_index("ix_offer_outbox_status_next_attempt_at")

    op.drop_table("offer_outbox")
    with op.batch_alter_table("offer_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_decisions_tenant_id_pseudonym_decided_at")
        batch_op.drop_index(batch_op.f("ix_offer_decisions_tenant_id"))

    op.drop_table("offer_decisions")
    with op.batch_alter_table("offer_campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_offer_campaigns_tenant_id_status")
        batch_op.drop_index(batch_op.f("ix_offer_campaigns_tenant_id"))

    op.drop_table("offer_campaigns")
