"""vending: fleet model, stock projections, audits, fills, alerts and dispatch plans

Revision ID: 0005_vending
Revises: 0004_audit_release
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tradeoff.platform.db.types

revision = "0005_vending"
down_revision = "0004_audit_release"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "vending_alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("machine_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("opened_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vending_alerts")),
        info={"time_column": "opened_at"},
    )
    with op.batch_alter_table("vending_alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_vending_alerts_tenant_id_machine_id_kind", ["tenant_id", "machine_id", "kind"], unique=False
        )

    op.create_table(
        "vending_audits",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("machine_id", sa.String(length=32), nullable=True),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("dex_serial", sa.String(length=64), nullable=True),
        sa.Column("read_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("vends", sa.Integer(), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("totals_value", sa.BigInteger(), nullable=True),
        sa.Column("reconciliation", sa.String(length=16), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("processed_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vending_audits")),
        info={"time_column": "processed_at"},
    )
    with op.batch_alter_table("vending_audits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_vending_audits_tenant_id_machine_id_read_at", ["tenant_id", "machine_id", "read_at"], unique=False
        )

    op.create_table(
        "vending_depots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_vending_depots_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vending_depots")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_vending_depots_tenant_id_name")),
    )
    with op.batch_alter_table("vending_depots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_depots_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_plans",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("depot_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("deferred", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_vending_plans_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vending_plans")),
    )
    with op.batch_alter_table("vending_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_plans_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_vending_plans_tenant_id_created_at", ["tenant_id", "created_at"], unique=False)

    op.create_table(
        "vending_products",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("case_size", sa.Integer(), nullable=False),
        sa.Column("unit_volume_l", sa.Float(), nullable=True),
        sa.Column("created_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_vending_products_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vending_products")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_vending_products_tenant_id_sku")),
    )
    with op.batch_alter_table("vending_products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_products_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_plan_trucks",
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("truck_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("truck_id", sa.String(length=32), nullable=False),
        sa.Column("load", sa.JSON(), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=False),
        sa.Column("departs", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("returns", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["vending_plans.id"],
            name=op.f("fk_vending_plan_trucks_plan_id_vending_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "truck_index", name=op.f("pk_vending_plan_trucks")),
    )
    with op.batch_alter_table("vending_plan_trucks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_plan_trucks_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_trucks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("depot_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("capacity_units", sa.Integer(), nullable=True),
        sa.Column("capacity_volume_l", sa.Float(), nullable=True),
        sa.Column("shift_start", sa.String(length=5), nullable=False),
        sa.Column("shift_end", sa.String(length=5), nullable=False),
        sa.Column("created_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["vending_depots.id"], name=op.f("fk_vending_trucks_depot_id_vending_depots")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_vending_trucks_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vending_trucks")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_vending_trucks_tenant_id_name")),
    )
    with op.batch_alter_table("vending_trucks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_trucks_depot_id"), ["depot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vending_trucks_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_machines",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("dex_serial", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=32), nullable=True),
        sa.Column("site_id", sa.String(length=32), nullable=True),
        sa.Column("depot_id", sa.String(length=32), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("service_minutes", sa.Float(), nullable=False),
        sa.Column("service_seconds_per_unit", sa.Float(), nullable=False),
        sa.Column("max_celsius", sa.Float(), nullable=True),
        sa.Column("created_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["depot_id"], ["vending_depots.id"], name=op.f("fk_vending_machines_depot_id_vending_depots")
        ),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_vending_machines_device_id_devices")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_vending_machines_site_id_sites")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_vending_machines_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vending_machines")),
        sa.UniqueConstraint("tenant_id", "dex_serial", name=op.f("uq_vending_machines_tenant_id_dex_serial")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_vending_machines_tenant_id_name")),
    )
    with op.batch_alter_table("vending_machines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_machines_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_plan_stops",
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("truck_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stop_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("machine_id", sa.String(length=32), nullable=False),
        sa.Column("eta", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("departs", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id", "truck_index"],
            ["vending_plan_trucks.plan_id", "vending_plan_trucks.truck_index"],
            name=op.f("fk_vending_plan_stops_plan_id_vending_plan_trucks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "truck_index", "stop_index", name=op.f("pk_vending_plan_stops")),
    )
    with op.batch_alter_table("vending_plan_stops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_plan_stops_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_column_stock",
        sa.Column("machine_id", sa.String(length=32), nullable=False),
        sa.Column("selection", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("level_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("level_source", sa.String(length=16), nullable=True),
        sa.Column("vends_since_level", sa.Integer(), nullable=False),
        sa.Column("counters", sa.JSON(), nullable=True),
        sa.Column("counters_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("dex_product", sa.String(length=64), nullable=True),
        sa.Column("price", sa.Integer(), nullable=True),
        sa.Column("sensor_units", sa.Integer(), nullable=True),
        sa.Column("sensor_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["vending_machines.id"], name=op.f("fk_vending_column_stock_machine_id_vending_machines")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_vending_column_stock_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("machine_id", "selection", name=op.f("pk_vending_column_stock")),
    )
    with op.batch_alter_table("vending_column_stock", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_column_stock_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_column_vends",
        sa.Column("machine_id", sa.String(length=32), nullable=False),
        sa.Column("selection", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("vends", sa.Integer(), nullable=False),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["vending_machines.id"], name=op.f("fk_vending_column_vends_machine_id_vending_machines")
        ),
        sa.PrimaryKeyConstraint("machine_id", "selection", "day", name=op.f("pk_vending_column_vends")),
        info={"time_column": "updated_at"},
    )
    with op.batch_alter_table("vending_column_vends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_column_vends_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_fills",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("machine_id", sa.String(length=32), nullable=False),
        sa.Column("selection", sa.String(length=16), nullable=False),
        sa.Column("product_id", sa.String(length=32), nullable=True),
        sa.Column("units_added", sa.Integer(), nullable=False),
        sa.Column("level_after", sa.Integer(), nullable=False),
        sa.Column("filled_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["vending_machines.id"], name=op.f("fk_vending_fills_machine_id_vending_machines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vending_fills")),
        info={"time_column": "filled_at"},
    )
    with op.batch_alter_table("vending_fills", schema=None) as batch_op:
        batch_op.create_index(
            "ix_vending_fills_tenant_id_machine_id_filled_at", ["tenant_id", "machine_id", "filled_at"], unique=False
        )

    op.create_table(
        "vending_machine_state",
        sa.Column("machine_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("last_read_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("totals", sa.JSON(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("decimals", sa.Integer(), nullable=True),
        sa.Column("door_open", sa.Boolean(), nullable=True),
        sa.Column("door_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("celsius", sa.Float(), nullable=True),
        sa.Column("celsius_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"], ["vending_machines.id"], name=op.f("fk_vending_machine_state_machine_id_vending_machines")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_vending_machine_state_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("machine_id", name=op.f("pk_vending_machine_state")),
    )
    with op.batch_alter_table("vending_machine_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_machine_state_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_plan_picks",
        sa.Column("plan_id", sa.String(length=32), nullable=False),
        sa.Column("truck_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stop_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pick_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("selection", sa.String(length=16), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id", "truck_index", "stop_index"],
            ["vending_plan_stops.plan_id", "vending_plan_stops.truck_index", "vending_plan_stops.stop_index"],
            name=op.f("fk_vending_plan_picks_plan_id_vending_plan_stops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "plan_id", "truck_index", "stop_index", "pick_index", name=op.f("pk_vending_plan_picks")
        ),
    )
    with op.batch_alter_table("vending_plan_picks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_plan_picks_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "vending_planogram_columns",
        sa.Column("machine_id", sa.String(length=32), nullable=False),
        sa.Column("selection", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=32), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("par", sa.Integer(), nullable=False),
        sa.Column("threshold_pct", sa.Float(), nullable=False),
        sa.Column("updated_at", tradeoff.platform.db.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_id"],
            ["vending_machines.id"],
            name=op.f("fk_vending_planogram_columns_machine_id_vending_machines"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["vending_products.id"],
            name=op.f("fk_vending_planogram_columns_product_id_vending_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_vending_planogram_columns_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("machine_id", "selection", name=op.f("pk_vending_planogram_columns")),
    )
    with op.batch_alter_table("vending_planogram_columns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vending_planogram_columns_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vending_planogram_columns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_planogram_columns_tenant_id"))

    op.drop_table("vending_planogram_columns")
    with op.batch_alter_table("vending_plan_picks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_plan_picks_tenant_id"))

    op.drop_table("vending_plan_picks")
    with op.batch_alter_table("vending_machine_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_machine_state_tenant_id"))

    op.drop_table("vending_machine_state")
    with op.batch_alter_table("vending_fills", schema=None) as batch_op:
        batch_op.drop_index("ix_vending_fills_tenant_id_machine_id_filled_at")

    op.drop_table("vending_fills")
    with op.batch_alter_table("vending_column_vends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_column_vends_tenant_id"))

    op.drop_table("vending_column_vends")
    with op.batch_alter_table("vending_column_stock", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_column_stock_tenant_id"))

    op.drop_table("vending_column_stock")
    with op.batch_alter_table("vending_plan_stops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_plan_stops_tenant_id"))

    op.drop_table("vending_plan_stops")
    with op.batch_alter_table("vending_machines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_machines_tenant_id"))

    op.drop_table("vending_machines")
    with op.batch_alter_table("vending_trucks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_trucks_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_vending_trucks_depot_id"))

    op.drop_table("vending_trucks")
    with op.batch_alter_table("vending_plan_trucks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_plan_trucks_tenant_id"))

    op.drop_table("vending_plan_trucks")
    with op.batch_alter_table("vending_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_products_tenant_id"))

    op.drop_table("vending_products")
    with op.batch_alter_table("vending_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_vending_plans_tenant_id_created_at")
        batch_op.drop_index(batch_op.f("ix_vending_plans_tenant_id"))

    op.drop_table("vending_plans")
    with op.batch_alter_table("vending_depots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vending_depots_tenant_id"))

    op.drop_table("vending_depots")
    with op.batch_alter_table("vending_audits", schema=None) as batch_op:
        batch_op.drop_index("ix_vending_audits_tenant_id_machine_id_read_at")

    op.drop_table("vending_audits")
    with op.batch_alter_table("vending_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_vending_alerts_tenant_id_machine_id_kind")

    op.drop_table("vending_alerts")
