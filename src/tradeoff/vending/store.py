"""Vending tables: the fleet model, per-column stock projections, audits, fills, alerts and dispatch plans.

Vending data is about machines, not people, so nearly everything is operational. The one link to a person
is who recorded a fill: only the key or user id is kept (``recorded_by``), never a driver's name.
Money is stored in integer minor units. Every table carries ``tenant_id`` (row-level security on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tradeoff.platform.db.columns import KEEP, PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
HISTORY_DAYS = 800  # two years of sales history: enough for yearly seasonality in forecasts
ALERT_DAYS = 400

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _tenant() -> Column[Any]:
    return classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS)


def _kept(name: str, type_: Any, *args: Any, days: int = HISTORY_DAYS, **kwargs: Any) -> Column[Any]:
    """A column of a history table, deleted with its row after ``days``. Nullable columns say KEEP: they go
    with the row, and retention need not blank them first."""
    retention = KEEP if kwargs.get("nullable") else days
    return classified(name, type_, *args, privacy=OPS, retention_days=retention, **kwargs)


# -- fleet model ----------------------------------------------------------------------------------------

vending_depots = Table(
    "vending_depots",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    _tenant(),
    classified("name", String(200), nullable=False, privacy=OPS),
    classified("lat", Float(), nullable=False, privacy=OPS),
    classified("lon", Float(), nullable=False, privacy=OPS),
    classified("timezone", String(64), nullable=False, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    UniqueConstraint("tenant_id", "name"),
)

vending_trucks = Table(
    "vending_trucks",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    _tenant(),
    classified("depot_id", String(32), ForeignKey("vending_depots.id"), nullable=False, index=True, privacy=OPS),
    classified("name", String(200), nullable=False, privacy=OPS),
    classified("capacity_units", Integer(), nullable=True, privacy=OPS),
    classified("capacity_volume_l", Float(), nullable=True, privacy=OPS),
    classified("shift_start", String(5), nullable=False, privacy=OPS),  # "HH:MM", depot local time
    classified("shift_end", String(5), nullable=False, privacy=OPS),  # before shift_start: ends next day
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    UniqueConstraint("tenant_id", "name"),
)

vending_products = Table(
    "vending_products",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    _tenant(),
    classified("sku", String(64), nullable=False, privacy=OPS),
    classified("name", String(200), nullable=False, privacy=OPS),
    classified("case_size", Integer(), nullable=False, privacy=OPS),
    classified("unit_volume_l", Float(), nullable=True, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    UniqueConstraint("tenant_id", "sku"),
)

vending_machines = Table(
    "vending_machines",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    _tenant(),
    classified("name", String(200), nullable=False, privacy=OPS),
    classified("dex_serial", String(64), nullable=True, privacy=OPS),  # ID1 serial: how audits find it
    classified("device_id", String(32), ForeignKey("devices.id"), nullable=True, privacy=OPS),
    classified("site_id", String(32), ForeignKey("sites.id"), nullable=True, privacy=OPS),
    classified("depot_id", String(32), ForeignKey("vending_depots.id"), nullable=True, privacy=OPS),
    classified("lat", Float(), nullable=False, privacy=OPS),
    classified("lon", Float(), nullable=False, privacy=OPS),
    classified("timezone", String(64), nullable=False, privacy=OPS),
    # {"mon": [["07:00", "19:00"]], ...}; empty: open around the clock
    classified("opening_hours", JSON(), nullable=False, privacy=OPS),
    classified("service_minutes", Float(), nullable=False, privacy=OPS),
    classified("service_seconds_per_unit", Float(), nullable=False, privacy=OPS),
    classified("max_celsius", Float(), nullable=True, privacy=OPS),  # refrigerated machines: alert above
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    UniqueConstraint("tenant_id", "name"),
    UniqueConstraint("tenant_id", "dex_serial"),
)

vending_planogram_columns = Table(
    "vending_planogram_columns",
    metadata,
    classified("machine_id", String(32), ForeignKey("vending_machines.id"), primary_key=True, privacy=OPS),
    classified("selection", String(16), primary_key=True, privacy=OPS),
    _tenant(),
    classified("product_id", String(32), ForeignKey("vending_products.id"), nullable=False, privacy=OPS),
    classified("capacity", Integer(), nullable=False, privacy=OPS),
    classified("par", Integer(), nullable=False, privacy=OPS),
    classified("threshold_pct", Float(), nullable=False, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

# -- projections fed by fills, audits and telemetry ----------------------------------------------------

vending_column_stock = Table(
    "vending_column_stock",
    metadata,
    classified("machine_id", String(32), ForeignKey("vending_machines.id"), primary_key=True, privacy=OPS),
    classified("selection", String(16), primary_key=True, privacy=OPS),
    _tenant(),
    # the last known level (a fill or a sensor count) and vends counted against it since
    classified("level", Integer(), nullable=True, privacy=OPS),
    classified("level_at", UtcDateTime(), nullable=True, privacy=OPS),
    classified("level_source", String(16), nullable=True, privacy=OPS),
    classified("vends_since_level", Integer(), nullable=False, privacy=OPS),
    # the counters of the last applied audit (what the next one is differenced against)
    classified("counters", JSON(), nullable=True, privacy=OPS),
    classified("counters_at", UtcDateTime(), nullable=True, privacy=OPS),
    classified("first_seen_at", UtcDateTime(), nullable=True, privacy=OPS),  # its first audit: history starts
    classified("dex_product", String(64), nullable=True, privacy=OPS),
    classified("price", Integer(), nullable=True, privacy=OPS),
    classified("sensor_units", Integer(), nullable=True, privacy=OPS),
    classified("sensor_at", UtcDateTime(), nullable=True, privacy=OPS),
    classified("flags", JSON(), nullable=False, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

vending_machine_state = Table(
    "vending_machine_state",
    metadata,
    classified("machine_id", String(32), ForeignKey("vending_machines.id"), primary_key=True, privacy=OPS),
    _tenant(),
    classified("last_read_at", UtcDateTime(), nullable=True, privacy=OPS),  # newest applied audit
    classified("totals", JSON(), nullable=True, privacy=OPS),  # its VA1 totals {vends, value}
    classified("currency", String(3), nullable=True, privacy=OPS),
    classified("decimals", Integer(), nullable=True, privacy=OPS),
    classified("door_open", Boolean(), nullable=True, privacy=OPS),
    classified("door_at", UtcDateTime(), nullable=True, privacy=OPS),
    classified("celsius", Float(), nullable=True, privacy=OPS),
    classified("celsius_at", UtcDateTime(), nullable=True, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

vending_audits = Table(
    "vending_audits",
    metadata,
    _kept("id", BigId, primary_key=True, autoincrement=True),
    _kept("tenant_id", String(32), nullable=False),
    _kept("machine_id", String(32), nullable=True),  # None: no machine matched
    _kept("event_id", String(128), nullable=False),
    _kept("source", String(128), nullable=False),
    _kept("dex_serial", String(64), nullable=True),
    _kept("read_at", UtcDateTime(), nullable=False),
    _kept("sha256", String(64), nullable=True),
    _kept("status", String(16), nullable=False),  # applied | baseline | duplicate | out_of_order | unmatched
    _kept("vends", Integer(), nullable=True),  # units that left the machine since the previous audit
    _kept("value", BigInteger(), nullable=True),  # paid value of those (sum of PA202 deltas), minor units
    _kept("totals_value", BigInteger(), nullable=True),  # the VA1 delta over the same interval
    _kept("reconciliation", String(16), nullable=False),  # ok | mismatch | skipped
    _kept("flags", JSON(), nullable=False),
    _kept("processed_at", UtcDateTime(), nullable=False),
    Index("ix_vending_audits_tenant_id_machine_id_read_at", "tenant_id", "machine_id", "read_at"),
    info={"time_column": "processed_at"},
)

vending_column_vends = Table(
    "vending_column_vends",
    metadata,
    _kept("machine_id", String(32), ForeignKey("vending_machines.id"), primary_key=True),
    _kept("selection", String(16), primary_key=True),
    _kept("day", Date(), primary_key=True),  # the machine's local day
    _kept("tenant_id", String(32), nullable=False, index=True),
    _kept("vends", Integer(), nullable=False),
    _kept("updated_at", UtcDateTime(), nullable=False),
    info={"time_column": "updated_at"},
)

vending_fills = Table(
    "vending_fills",
    metadata,
    _kept("id", String(32), primary_key=True),
    _kept("tenant_id", String(32), nullable=False),
    _kept("machine_id", String(32), ForeignKey("vending_machines.id"), nullable=False),
    _kept("selection", String(16), nullable=False),
    _kept("product_id", String(32), nullable=True),
    _kept("units_added", Integer(), nullable=False),
    _kept("level_after", Integer(), nullable=False),
    _kept("filled_at", UtcDateTime(), nullable=False),
    _kept("recorded_by", String(64), nullable=False),  # a key or user id (no driver names)
    _kept("source", String(16), nullable=False),  # api | cli
    _kept("created_at", UtcDateTime(), nullable=False),
    Index("ix_vending_fills_tenant_id_machine_id_filled_at", "tenant_id", "machine_id", "filled_at"),
    info={"time_column": "filled_at"},
)

vending_alerts = Table(
    "vending_alerts",
    metadata,
    _kept("id", BigId, primary_key=True, autoincrement=True, days=ALERT_DAYS),
    _kept("tenant_id", String(32), nullable=False, days=ALERT_DAYS),
    _kept("machine_id", String(32), nullable=True, days=ALERT_DAYS),
    _kept("kind", String(32), nullable=False, days=ALERT_DAYS),
    _kept("ref", String(128), nullable=False, days=ALERT_DAYS),  # selection, fault code, serial…
    _kept("message", Text(), nullable=False, days=ALERT_DAYS),
    _kept("details", JSON(), nullable=False, days=ALERT_DAYS),
    _kept("opened_at", UtcDateTime(), nullable=False, days=ALERT_DAYS),
    _kept("last_seen_at", UtcDateTime(), nullable=False, days=ALERT_DAYS),
    _kept("resolved_at", UtcDateTime(), nullable=True, days=ALERT_DAYS),
    Index("ix_vending_alerts_tenant_id_machine_id_kind", "tenant_id", "machine_id", "kind"),
    info={"time_column": "opened_at"},
)

# -- dispatch plans --------------------------------------------------------------------------------------

vending_plans = Table(
    "vending_plans",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    _tenant(),
    classified("depot_id", String(32), nullable=True, privacy=OPS),
    classified("status", String(16), nullable=False, privacy=OPS),  # proposed|dispatched|completed|superseded
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("status_changed_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("deferred", JSON(), nullable=False, privacy=OPS),
    classified("meta", JSON(), nullable=False, privacy=OPS),
    Index("ix_vending_plans_tenant_id_created_at", "tenant_id", "created_at"),
)

vending_plan_trucks = Table(
    "vending_plan_trucks",
    metadata,
    classified(
        "plan_id", String(32), ForeignKey("vending_plans.id", ondelete="CASCADE"), primary_key=True, privacy=OPS
    ),
    classified("truck_index", Integer(), primary_key=True, autoincrement=False, privacy=OPS),
    classified("tenant_id", String(32), nullable=False, index=True, privacy=OPS),
    classified("truck_id", String(32), nullable=False, privacy=OPS),
    classified("load", JSON(), nullable=False, privacy=OPS),
    classified("distance_m", Integer(), nullable=False, privacy=OPS),
    classified("departs", UtcDateTime(), nullable=False, privacy=OPS),
    classified("returns", UtcDateTime(), nullable=False, privacy=OPS),
)

vending_plan_stops = Table(
    "vending_plan_stops",
    metadata,
    classified("plan_id", String(32), primary_key=True, privacy=OPS),
    classified("truck_index", Integer(), primary_key=True, autoincrement=False, privacy=OPS),
    classified("stop_index", Integer(), primary_key=True, autoincrement=False, privacy=OPS),
    classified("tenant_id", String(32), nullable=False, index=True, privacy=OPS),
    classified("machine_id", String(32), nullable=False, privacy=OPS),
    classified("eta", UtcDateTime(), nullable=False, privacy=OPS),
    classified("departs", UtcDateTime(), nullable=False, privacy=OPS),
    classified("reason", String(16), nullable=False, privacy=OPS),
    ForeignKeyConstraint(
        ["plan_id", "truck_index"],
        ["vending_plan_trucks.plan_id", "vending_plan_trucks.truck_index"],
        ondelete="CASCADE",
    ),
)

vending_plan_picks = Table(
    "vending_plan_picks",
    metadata,
    classified("plan_id", String(32), primary_key=True, privacy=OPS),
    classified("truck_index", Integer(), primary_key=True, autoincrement=False, privacy=OPS),
    classified("stop_index", Integer(), primary_key=True, autoincrement=False, privacy=OPS),
    classified("pick_index", Integer(), primary_key=True, autoincrement=False, privacy=OPS),
    classified("tenant_id", String(32), nullable=False, index=True, privacy=OPS),
    classified("selection", String(16), nullable=False, privacy=OPS),
    classified("product", String(64), nullable=False, privacy=OPS),
    classified("quantity", Integer(), nullable=False, privacy=OPS),
    ForeignKeyConstraint(
        ["plan_id", "truck_index", "stop_index"],
        ["vending_plan_stops.plan_id", "vending_plan_stops.truck_index", "vending_plan_stops.stop_index"],
        ondelete="CASCADE",
    ),
)
