"""Offer tables: campaigns, the decision ledger, coupons, counters and the delivery outbox.

Privacy: rows about a shopper carry only the stable keyed pseudonym (``ps_…``, ``pseudonym_key``), so
data-subject export and erasure find them. Coupons store their **serial**, never the printed code: the
code is recomputed from the serial under the tenant's coupon key (kept by the key provider, outside the
database), so a dump of these tables yields no code a till would accept.

Idempotency: ``offer_decisions`` is unique on (tenant, campaign, pseudonym, occasion): a presence
occasion replayed or re-derived can never issue a second coupon. POS calls are idempotent through the
coupon lifecycle itself (every command names the POS transaction; a repeat changes nothing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Float, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
PSEUDO = PrivacyClass.PSEUDONYMOUS
ANON = PrivacyClass.ANONYMOUS
LEDGER_DAYS = 400  # a year of campaigns plus the measurement period
OUTBOX_DAYS = 30

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _tenant() -> Column[Any]:
    return classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS)


def _pseudonym() -> Column[Any]:
    return classified("pseudonym", String(40), nullable=False, privacy=PSEUDO, pseudonym_key=True)


offer_campaigns = Table(
    "offer_campaigns",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    _tenant(),
    classified("name", String(200), nullable=False, privacy=OPS),
    classified("status", String(16), nullable=False, privacy=OPS),
    classified("spec", JSON(), nullable=False, privacy=OPS),
    classified("starts_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("ends_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
    Index("ix_offer_campaigns_tenant_id_status", "tenant_id", "status"),
)

# Per tenant: the global fatigue cap and the next coupon serial.
offer_settings = Table(
    "offer_settings",
    metadata,
    classified("tenant_id", String(32), ForeignKey("tenants.id"), primary_key=True, privacy=OPS),
    classified("fatigue_per_day", Integer(), nullable=False, privacy=OPS),
    classified("fatigue_min_gap_s", Float(), nullable=False, privacy=OPS),
    classified("next_serial", BigInteger(), nullable=False, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

# Counts per campaign: budget checks read these under the processor's transaction.
offer_campaign_counters = Table(
    "offer_campaign_counters",
    metadata,
    classified("campaign_id", String(32), ForeignKey("offer_campaigns.id"), primary_key=True, privacy=ANON),
    _tenant(),
    classified("issued", Integer(), nullable=False, privacy=ANON),
    classified("held_out", Integer(), nullable=False, privacy=ANON),
    classified("redeemed", Integer(), nullable=False, privacy=ANON),
    classified("skipped", JSON(), nullable=False, privacy=ANON),  # {reason: count}
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

offer_decisions = Table(
    "offer_decisions",
    metadata,
    classified("id", BigId, primary_key=True, autoincrement=True, privacy=OPS),
    _tenant(),
    classified("campaign_id", String(32), nullable=False, privacy=OPS),
    _pseudonym(),
    classified("occasion", String(200), nullable=False, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("trigger_event_id", String(128), nullable=False, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("outcome", String(16), nullable=False, privacy=PSEUDO, retention_days=LEDGER_DAYS),  # issue|holdout
    classified("coupon_id", String(32), nullable=True, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("decided_at", UtcDateTime(), nullable=False, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    UniqueConstraint("tenant_id", "campaign_id", "pseudonym", "occasion"),
    Index("ix_offer_decisions_tenant_id_pseudonym_decided_at", "tenant_id", "pseudonym", "decided_at"),
    info={"time_column": "decided_at"},
)

offer_coupons = Table(
    "offer_coupons",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    _tenant(),
    classified("campaign_id", String(32), ForeignKey("offer_campaigns.id"), nullable=False, privacy=OPS),
    _pseudonym(),
    classified("serial", BigInteger(), nullable=False, privacy=OPS),  # the code is MAC(serial), never stored
    classified("status", String(16), nullable=False, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("issued_at", UtcDateTime(), nullable=False, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("expires_at", UtcDateTime(), nullable=False, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    # offers.coupons.lifecycle.Coupon, field for field
    classified("transaction_id", String(128), nullable=True, privacy=OPS),  # the POS transaction holding it
    classified("hold_until", UtcDateTime(), nullable=True, privacy=OPS),
    classified("rolled_back_by", String(128), nullable=True, privacy=OPS),
    classified("void_reason", String(200), nullable=True, privacy=OPS),
    classified("version", Integer(), nullable=False, privacy=OPS),
    classified("redeemed_at", UtcDateTime(), nullable=True, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
    UniqueConstraint("tenant_id", "serial"),
    Index("ix_offer_coupons_tenant_id_pseudonym", "tenant_id", "pseudonym"),
    info={"time_column": "issued_at"},
)

# What a sender must deliver (app push, webhook, SSE): picked by status + next_attempt_at, retried with backoff.
offer_outbox = Table(
    "offer_outbox",
    metadata,
    classified("id", BigId, primary_key=True, autoincrement=True, privacy=OPS),
    _tenant(),
    classified("coupon_id", String(32), nullable=False, privacy=OPS),
    classified("campaign_id", String(32), nullable=False, privacy=OPS),
    _pseudonym(),
    classified("channel", String(16), nullable=False, privacy=OPS),
    classified("payload", JSON(), nullable=False, privacy=PSEUDO, retention_days=OUTBOX_DAYS),
    classified("status", String(16), nullable=False, privacy=OPS),  # pending | sent | failed | dead
    classified("attempts", Integer(), nullable=False, privacy=OPS),
    classified("next_attempt_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("last_error", String(500), nullable=True, privacy=OPS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS, retention_days=OUTBOX_DAYS),
    classified("sent_at", UtcDateTime(), nullable=True, privacy=OPS),
    UniqueConstraint("tenant_id", "coupon_id", "channel"),
    Index("ix_offer_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    info={"time_column": "created_at"},
)
