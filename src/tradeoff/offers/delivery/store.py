"""Delivery tables: the app's webhook endpoints per tenant and the delivery receipts per coupon.

No secret is stored: an endpoint's signing secret is derived by the key provider from the tenant's MAC
root, the endpoint id and ``secret_version`` (``endpoints.secret_of``), so a database dump holds nothing
that could sign a webhook. Receipts carry only the stable keyed pseudonym (``pseudonym_key``), so a
data-subject export lists them and an erasure deletes them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Table

from tradeoff.offers.store import LEDGER_DAYS, OPS, PSEUDO
from tradeoff.platform.db.columns import classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

offer_webhook_endpoints = Table(
    "offer_webhook_endpoints",
    metadata,
    classified("id", String(32), primary_key=True, privacy=OPS),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS),
    classified("url", String(2000), nullable=False, privacy=OPS),
    classified("description", String(200), nullable=False, privacy=OPS),
    classified("enabled", Boolean(), nullable=False, privacy=OPS),
    classified("secret_version", Integer(), nullable=False, privacy=OPS),  # the key is derived, never stored
    classified("previous_valid_until", UtcDateTime(), nullable=True, privacy=OPS),  # rotation overlap
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

# One row per coupon delivered to the shopper's app: when it arrived, was shown, was opened (first time each).
offer_receipts = Table(
    "offer_receipts",
    metadata,
    classified("coupon_id", String(32), primary_key=True, privacy=OPS),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS),
    classified("campaign_id", String(32), nullable=False, privacy=OPS),
    classified("pseudonym", String(40), nullable=False, privacy=PSEUDO, pseudonym_key=True),
    classified("delivered_at", UtcDateTime(), nullable=True, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("delivered_via", String(16), nullable=True, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("displayed_at", UtcDateTime(), nullable=True, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("opened_at", UtcDateTime(), nullable=True, privacy=PSEUDO, retention_days=LEDGER_DAYS),
    classified("created_at", UtcDateTime(), nullable=False, privacy=OPS, retention_days=LEDGER_DAYS),
    Index("ix_offer_receipts_tenant_id_pseudonym", "tenant_id", "pseudonym"),
    info={"time_column": "created_at"},
)
