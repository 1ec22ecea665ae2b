"""Store-setup tables: beacons on the plan, gateway placements, beacon status and plan images.

All of it describes store infrastructure, never a person: operational, kept while the row exists. The
plan itself (width, height, zones) stays in ``sites.floor_plan`` where every reader already looks.
Every table carries ``tenant_id`` (row-level security on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL


def _tenant() -> Column[Any]:
    return classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS)


def _site() -> Column[Any]:
    return classified("site_id", String(32), ForeignKey("sites.id"), nullable=False, index=True, privacy=OPS)


setup_beacons = Table(
    "setup_beacons",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    _tenant(),
    _site(),
    classified("kind", String(16), nullable=False, privacy=OPS),  # ibeacon | eddystone | altbeacon
    classified("identity_id", String(128), nullable=False, privacy=OPS),  # canonical, as in sightings
    classified("label", String(200), nullable=False, privacy=OPS),
    classified("x_m", Float(), nullable=True, privacy=OPS),  # None: registered, not placed yet
    classified("y_m", Float(), nullable=True, privacy=OPS),
    classified("zone", String(48), nullable=True, privacy=OPS),
    classified("measured_power", Integer(), nullable=True, privacy=OPS),  # dBm at 1 m
    classified("skus", JSON(), nullable=False, privacy=OPS),
    classified("categories", JSON(), nullable=False, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
    UniqueConstraint("tenant_id", "kind", "identity_id"),
)

setup_gateway_placements = Table(
    "setup_gateway_placements",
    metadata,
    classified("device_id", String(32), ForeignKey("devices.id"), primary_key=True, privacy=OPS),
    _tenant(),
    _site(),
    classified("x_m", Float(), nullable=False, privacy=OPS),
    classified("y_m", Float(), nullable=False, privacy=OPS),
    classified("zone", String(48), nullable=True, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

setup_beacon_status = Table(
    "setup_beacon_status",
    metadata,
    classified("beacon_id", String(32), ForeignKey("setup_beacons.id"), primary_key=True, privacy=OPS),
    _tenant(),
    classified("last_seen_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("last_rssi", Float(), nullable=True, privacy=OPS),
    classified("last_gateway", String(128), nullable=False, privacy=OPS),  # device external id, or "app"
    classified("last_room", String(128), nullable=True, privacy=OPS),
    classified("battery_mv", Integer(), nullable=True, privacy=OPS),
    classified("battery_pct", Float(), nullable=True, privacy=OPS),
    classified("temperature_c", Float(), nullable=True, privacy=OPS),
    classified("battery_at", UtcDateTime(), nullable=True, privacy=OPS),
    classified("sightings_count", BigInteger(), nullable=False, privacy=OPS),
)

setup_floor_plan_images = Table(
    "setup_floor_plan_images",
    metadata,
    classified("site_id", String(32), ForeignKey("sites.id"), primary_key=True, privacy=OPS),
    _tenant(),
    classified("content_type", String(32), nullable=False, privacy=OPS),
    classified("data", LargeBinary(), nullable=False, privacy=OPS),
    classified("sha256", String(64), nullable=False, privacy=OPS),
    classified("size", Integer(), nullable=False, privacy=OPS),
    classified("uploaded_at", UtcDateTime(), nullable=False, privacy=OPS),
)
