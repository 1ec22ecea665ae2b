"""store setup: beacons on the plan, gateway placements, beacon status and floor plan images

Revision ID: 0007_store_setup
Revises: 0006_offers
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradeoff.platform.db.types

revision = "0007_store_setup"
down_revision = "0006_offers"
branch_labels = None
depends_on = None

UtcDateTime = tradeoff.platform.db.types.UtcDateTime


def _tenant() -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(length=32), nullable=False)


def upgrade() -> None:
    op.create_table(
        "setup_beacons",
        sa.Column("id", sa.String(length=32), nullable=False),
        _tenant(),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("identity_id", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("x_m", sa.Float(), nullable=True),
        sa.Column("y_m", sa.Float(), nullable=True),
        sa.Column("zone", sa.String(length=48), nullable=True),
        sa.Column("measured_power", sa.Integer(), nullable=True),
        sa.Column("skus", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_setup_beacons_site_id_sites")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_setup_beacons_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_beacons")),
        sa.UniqueConstraint(
            "tenant_id", "kind", "identity_id", name=op.f("uq_setup_beacons_tenant_id_kind_identity_id")
        ),
    )
    op.create_index(op.f("ix_setup_beacons_site_id"), "setup_beacons", ["site_id"], unique=False)
    op.create_index(op.f("ix_setup_beacons_tenant_id"), "setup_beacons", ["tenant_id"], unique=False)

    op.create_table(
        "setup_gateway_placements",
        sa.Column("device_id", sa.String(length=32), nullable=False),
        _tenant(),
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("x_m", sa.Float(), nullable=False),
        sa.Column("y_m", sa.Float(), nullable=False),
        sa.Column("zone", sa.String(length=48), nullable=True),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_setup_gateway_placements_device_id_devices")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_setup_gateway_placements_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_setup_gateway_placements_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_setup_gateway_placements")),
    )
    op.create_index(op.f("ix_setup_gateway_placements_site_id"), "setup_gateway_placements", ["site_id"], unique=False)
    op.create_index(
        op.f("ix_setup_gateway_placements_tenant_id"), "setup_gateway_placements", ["tenant_id"], unique=False
    )

    op.create_table(
        "setup_beacon_status",
        sa.Column("beacon_id", sa.String(length=32), nullable=False),
        _tenant(),
        sa.Column("last_seen_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_rssi", sa.Float(), nullable=True),
        sa.Column("last_gateway", sa.String(length=128), nullable=False),
        sa.Column("last_room", sa.String(length=128), nullable=True),
        sa.Column("battery_mv", sa.Integer(), nullable=True),
        sa.Column("battery_pct", sa.Float(), nullable=True),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("battery_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("sightings_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["beacon_id"], ["setup_beacons.id"], name=op.f("fk_setup_beacon_status_beacon_id_setup_beacons")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_setup_beacon_status_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("beacon_id", name=op.f("pk_setup_beacon_status")),
    )
    op.create_index(op.f("ix_setup_beacon_status_tenant_id"), "setup_beacon_status", ["tenant_id"], unique=False)

    op.create_table(
        "setup_floor_plan_images",
        sa.Column("site_id", sa.String(length=32), nullable=False),
        _tenant(),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_setup_floor_plan_images_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_setup_floor_plan_images_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_setup_floor_plan_images")),
    )
    op.create_index(
        op.f("ix_setup_floor_plan_images_tenant_id"), "setup_floor_plan_images", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_setup_floor_plan_images_tenant_id"), table_name="setup_floor_plan_images")
    op.drop_table("setup_floor_plan_images")
    op.drop_index(op.f("ix_setup_beacon_status_tenant_id"), table_name="setup_beacon_status")
    op.drop_table("setup_beacon_status")
    op.drop_index(op.f("ix_setup_gateway_placements_tenant_id"), table_name="setup_gateway_placements")
    op.drop_index(op.f("ix_setup_gateway_placements_site_id"), table_name="setup_gateway_placements")
    op.drop_table("setup_gateway_placements")
    op.drop_index(op.f("ix_setup_beacons_tenant_id"), table_name="setup_beacons")
    op.drop_index(op.f("ix_setup_beacons_site_id"), table_name="setup_beacons")
    op.drop_table("setup_beacons")
