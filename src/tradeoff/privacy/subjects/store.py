"""The ``subjects`` table: shoppers registered by a tenant's app, known only by a random opaque id.

No device id, e-mail or phone number is kept: the app holds a secret token (stored as a SHA-256 verifier,
like API keys) and events name the subject by ``subject_id``, which the ingress gate replaces by a keyed
pseudonym before anything is stored.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Table

from tradeoff.platform.db.columns import PrivacyClass, classified
from tradeoff.platform.db.tables import metadata
from tradeoff.platform.db.types import UtcDateTime

OPS = PrivacyClass.OPERATIONAL
PSEUDO = PrivacyClass.PSEUDONYMOUS

subjects = Table(
    "subjects",
    metadata,
    classified("subject_id", String(32), primary_key=True, privacy=PSEUDO, subject_key=True),
    classified("tenant_id", String(32), ForeignKey("tenants.id"), nullable=False, index=True, privacy=OPS),
    # The app token's lookup prefix and SHA-256 verifier: credentials, never exported.
    classified("token_prefix", String(16), nullable=False, unique=True, privacy=PSEUDO, secret=True),
    classified("token_hash", String(64), nullable=False, privacy=PSEUDO, secret=True),
    classified("created_at", UtcDateTime(), nullable=False, privacy=PSEUDO),
    # Set when the subject is closed (erasure): consent no longer counts and the app token stops working.
    classified("closed_at", UtcDateTime(), nullable=True, privacy=PSEUDO),
    # Erasure keeps the row as a closed tombstone (random id, no personal data): the app token then
    # answers 410 "erased" and the gate drops anything later sent about the subject (privacy/dsr).
    info={"time_column": "created_at", "dsr_erase": "close"},
)
