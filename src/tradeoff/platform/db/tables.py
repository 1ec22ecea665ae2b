"""Platform tables: tenancy, credentials, the event log, dead letters and processor checkpoints.

Capability packages define their own tables on the same ``metadata`` in their ``store.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
PSEUDO = PrivacyClass.PSEUDONYMOUS

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

BigId = BigInteger().with_variant(Integer(), "sqlite")

tenants = Table(
    "tenants",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    classified("slug", String(48), nullable=False, unique=True, privacy=OPS),
    classified("name", String(200), nullable=False, privacy=OPS),
    classified("kind", String(32), nullable=False, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
)

sites = Table(
    "sites",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS),
    classified("name", String(200), nullable=False, privacy=OPS),
    classified("kind", String(32), nullable=False, privacy=OPS),
    classified("timezone", String(64), nullable=False, privacy=OPS),
    classified("floor_plan", JSON(), nullable=False, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
)

devices = Table(
    "devices",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, privacy=OPS),
    classified("site_id", String(32), ForeignKey("sites.id"), nullable=True, privacy=OPS),
    classified("external_id", String(128), nullable=False, privacy=OPS),
    classified("kind", String(32), nullable=False, privacy=OPS),
    classified("name", String(200), nullable=False, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    UniqueConstraint("tenant_id", "external_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS),
    classified("prefix", String(16), nullable=False, unique=True, privacy=OPS),
    classified("secret_hash", String(64), nullable=False, privacy=OPS),
    classified("role", String(16), nullable=False, privacy=OPS),
    classified("name", String(200), nullable=False, privacy=OPS),
    classified("device_id", String(32), ForeignKey("devices.id"), nullable=True, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("revoked_at", UtcDateTime(), nullable=True, privacy=OPS),
)

users = Table(
    "users",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS),
    classified("username", String(64), nullable=False, unique=True, privacy=OPS),
    classified("password_hash", String(200), nullable=False, privacy=OPS),
    classified("role", String(16), nullable=False, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
)

events = Table(
    "events",
    metadata,
    classified("seq", BigId, primary_key=True, autoincrement=True, privacy=OPS),
    classified("tenant_id", String(32), nullable=False, privacy=OPS),
    classified("event_id", String(128), nullable=False, privacy=OPS),
    classified("type", String(64), nullable=False, privacy=OPS),
    classified("schema_version", Integer(), nullable=False, privacy=OPS),
    classified("source", String(128), nullable=False, privacy=OPS),
    classified("occurred_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("received_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("transport", String(16), nullable=False, privacy=OPS),
    # Payloads pass the privacy gate before they get here: at most pseudonymous.
    classified("payload", JSON(), nullable=False, privacy=PSEUDO, retention_days=400),
    UniqueConstraint("tenant_id", "event_id"),
    Index("ix_events_tenant_id_seq", "tenant_id", "seq"),
    info={"time_column": "received_at"},  # what retention measures age by
)

dead_letters = Table(
    "dead_letters",
    metadata,
    classified("id", BigId, primary_key=True, autoincrement=True, privacy=OPS),
    classified("tenant_id", String(32), nullable=True, index=True, privacy=OPS),
    classified("transport", String(16), nullable=False, privacy=OPS),
    classified("source", String(200), nullable=True, privacy=OPS),
    classified("reason_code", String(64), nullable=False, privacy=OPS),
    classified("reason", Text(), nullable=False, privacy=OPS),
    # Raw rejected input may hold anything a device sent; kept briefly for diagnosis.
    classified("raw", LargeBinary(), nullable=False, privacy=PSEUDO, retention_days=30),
    classified("received_at", UtcDateTime(), nullable=False, privacy=OPS),
    info={"time_column": "received_at"},
)

processor_checkpoints = Table(
    "processor_checkpoints",
    metadata,
    classified("processor", String(64), primary_key=True, privacy=OPS),
    classified("last_seq", BigInteger(), nullable=False, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

device_state = Table(
    "device_state",
    metadata,
    classified("tenant_id", String(32), primary_key=True, privacy=OPS),
    classified("source", String(128), primary_key=True, privacy=OPS),
    classified("last_seen_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("last_type", String(64), nullable=False, privacy=OPS),
    classified("events_count", BigInteger(), nullable=False, privacy=OPS),
    classified("last_telemetry", JSON(), nullable=True, privacy=OPS),
)

parked_events = Table(
    "parked_events",
    metadata,
    classified("processor", String(64), primary_key=True, privacy=OPS),
    classified("seq", BigInteger(), primary_key=True, privacy=OPS),
    classified("tenant_id", String(32), nullable=False, privacy=OPS),
    classified("error", Text(), nullable=False, privacy=OPS),
    classified("parked_at", UtcDateTime(), nullable=False, privacy=OPS),
)
