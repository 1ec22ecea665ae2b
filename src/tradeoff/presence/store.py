"""Presence projections the presence processor keeps.

- ``presence_zone_occupancy``: how many tracked entities are in each zone now — a count, about nobody.
- ``presence_visits``: finished stays of opted-in shoppers (enter → exit), under the pseudonym the event
  carried (``pd_…`` daily at tier 1, ``ps_…`` stable at tier 2+), so erasure and export find them.
  Anonymous devices and beacon tags only ever reach the occupancy counts.
- ``presence_zone_models``: the calibrated fingerprint model installed for a site (at most one), which the
  processor uses instead of path-loss for the receivers it covers. Staff survey scans, no shopper data.
The tracker state itself is not stored: it is rebuilt from the log (see ``presence.processor``).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
PSEUDO = PrivacyClass.PSEUDONYMOUS
ANON = PrivacyClass.ANONYMOUS
VISIT_DAYS = 400

BigId = BigInteger().with_variant(Integer(), "sqlite")

presence_zone_occupancy = Table(
    "presence_zone_occupancy",
    metadata,
    classified("tenant_id", String(32), ForeignKey("tenants.id"), primary_key=True, privacy=OPS),
    classified("zone", String(64), primary_key=True, privacy=OPS),
    classified("occupants", Integer(), nullable=False, privacy=ANON),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

presence_visits = Table(
    "presence_visits",
    metadata,
    classified("id", BigId, primary_key=True, autoincrement=True, privacy=OPS),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, privacy=OPS),
    classified("pseudonym", String(40), nullable=False, privacy=PSEUDO, pseudonym_key=True),
    classified("zone", String(64), nullable=False, privacy=PSEUDO, retention_days=VISIT_DAYS),
    classified("entered_at", UtcDateTime(), nullable=False, privacy=PSEUDO, retention_days=VISIT_DAYS),
    classified("exited_at", UtcDateTime(), nullable=False, privacy=PSEUDO, retention_days=VISIT_DAYS),
    classified("dwell_s", Float(), nullable=False, privacy=PSEUDO, retention_days=VISIT_DAYS),
    classified("reason", String(16), nullable=False, privacy=PSEUDO, retention_days=VISIT_DAYS),
    classified("event_id", String(128), nullable=False, privacy=OPS),
    UniqueConstraint("tenant_id", "event_id"),
    Index("ix_presence_visits_tenant_id_pseudonym", "tenant_id", "pseudonym"),
    Index("ix_presence_visits_tenant_id_entered_at", "tenant_id", "entered_at"),
    info={"time_column": "entered_at"},
)

presence_zone_models = Table(
    "presence_zone_models",
    metadata,
    classified("site_id", String(32), ForeignKey("sites.id"), primary_key=True, privacy=OPS),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS),
    classified("model", JSON(), nullable=False, privacy=OPS),  # the tradeoff-presence-model document
    classified("zone_map", JSON(), nullable=False, privacy=OPS),  # model class → zone ({}: the default)
    classified("receiver_map", JSON(), nullable=False, privacy=OPS),  # model beacon → live receiver key
    classified("classes", JSON(), nullable=False, privacy=OPS),  # summary: class → zone (or null)
    classified("receivers", JSON(), nullable=False, privacy=OPS),  # summary: the live receiver keys read
    classified("scans", Integer(), nullable=False, privacy=OPS),
    classified("sha256", String(64), nullable=False, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("created_by", String(128), nullable=False, privacy=OPS),  # "user:<name>", "key:<id>", "cli"
)
