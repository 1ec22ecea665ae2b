"""Segment tables: the tenant's catalogue (``offer_segments``) and each shopper's released choice
(``offer_preferences``).

Privacy: the catalogue is the merchant's configuration (operational). A shopper's choice says what they
like — and a merchant may well offer segments such as "halal" or "gluten-free", which reveal religion or
health — so it is **personal**: stored only as vault ciphertext under the shopper's own data key (bound to
tenant, subject, table, column and row), keyed by ``subject_id`` (``subject_key``) so data-subject export
decrypts it and erasure deletes the row after the key was destroyed (crypto-shredding: a backup holding
the row is unreadable too). It is never keyed by the stable pseudonym: the database alone must not link
a shopper's pseudonymous history to their subject id.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Table

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
PSEUDO = PrivacyClass.PSEUDONYMOUS
PERSONAL = PrivacyClass.PERSONAL

offer_segments = Table(
    "offer_segments",
    metadata,
    classified("tenant_id", String(32), ForeignKey("tenants.id"), primary_key=True, privacy=OPS),
    classified("key", String(32), primary_key=True, privacy=OPS),
    classified("label", String(80), nullable=False, privacy=OPS),
    classified("description", String(300), nullable=True, privacy=OPS),
    classified("position", Integer(), nullable=False, privacy=OPS),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=OPS),
)

offer_preferences = Table(
    "offer_preferences",
    metadata,
    classified("subject_id", String(32), primary_key=True, privacy=PSEUDO, subject_key=True),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS),
    classified("segments", LargeBinary(), nullable=False, privacy=PERSONAL, encrypted=True),
    classified("updated_at", UtcDateTime(), nullable=False, privacy=PSEUDO),
    info={"time_column": "updated_at"},
)
