"""The consent ledger: purposes bundled into tiers 0–3, versioned and time-stamped grants and withdrawals,
Global Privacy Control, and the one question the ingress gate asks: ``may(...)``."""

from tradeoff.privacy.consent.cache import ConsentCache, notify_consent_changed
from tradeoff.privacy.consent.ledger import (
    ConsentReader,
    apply_gpc,
    consent_history,
    consent_state,
    consent_states,
    may,
    record_consent,
)
from tradeoff.privacy.consent.model import (
    GPC_RESTRICTED,
    RENEWAL_PERIOD,
    STABLE_PURPOSES,
    TIER_PURPOSES,
    Basis,
    ConsentRecord,
    ConsentState,
    Purpose,
    Source,
    changes_for_tier,
    purposes_for_tier,
    tier_of,
)
from tradeoff.privacy.consent.purposes import DEFAULT_EVENT_PURPOSES, EventPurposes, default_event_purposes
from tradeoff.privacy.consent.service import ChangeResult, ConsentChange, audit_consent, change_consent, honour_gpc
from tradeoff.privacy.consent.snapshot import ConsentSnapshot, read_snapshot

__all__ = [
    "DEFAULT_EVENT_PURPOSES",
    "GPC_RESTRICTED",
    "RENEWAL_PERIOD",
    "STABLE_PURPOSES",
    "TIER_PURPOSES",
    "Basis",
    "ChangeResult",
    "ConsentCache",
    "ConsentChange",
    "ConsentReader",
    "ConsentRecord",
    "ConsentSnapshot",
    "ConsentState",
    "EventPurposes",
    "Purpose",
    "Source",
    "apply_gpc",
    "audit_consent",
    "change_consent",
    "changes_for_tier",
    "consent_history",
    "consent_state",
    "consent_states",
    "default_event_purposes",
    "honour_gpc",
    "may",
    "notify_consent_changed",
    "purposes_for_tier",
    "read_snapshot",
    "record_consent",
    "tier_of",
]
