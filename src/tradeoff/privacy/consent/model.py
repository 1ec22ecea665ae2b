"""Consent as data: purposes, the tiers that bundle them, ledger records and the one rule that decides.

Pure: no I/O. ``ConsentState.allows`` is the single place that answers "may purpose P be applied to
subject S at time t?"; ``may`` (in ``ledger``), the ingress gate and the API all go through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Purpose(StrEnum):
    ANALYTICS = "analytics"  # sightings in released aggregates, under a daily pseudonym
    PERSONALIZATION = "personalization"  # a stable pseudonym, zone history, offers and coupons
    PURCHASE_LINKING = "purchase_linking"  # POS baskets linked via a keyed card-fingerprint/loyalty token


class Source(StrEnum):
    APP = "app"
    WEB = "web"
    IN_STORE = "in_store"


class Basis(StrEnum):
    EXPLICIT = "explicit"  # the subject's own choice, recorded as asked
    GPC = "gpc"  # a standing grant withdrawn because a Global Privacy Control signal arrived
    GPC_CONFLICT = "gpc_conflict"  # an explicit grant refused because it came with a GPC signal


TIER_PURPOSES: dict[int, frozenset[Purpose]] = {
    0: frozenset(),
    1: frozenset({Purpose.ANALYTICS}),
    2: frozenset({Purpose.ANALYTICS, Purpose.PERSONALIZATION}),
    3: frozenset({Purpose.ANALYTICS, Purpose.PERSONALIZATION, Purpose.PURCHASE_LINKING}),
}
# GPC is an opt-out of "sale or sharing". Linking card/loyalty identity to behaviour is the purpose here
# that comes closest; analytics and first-party personalization stay inside the tenant and are not sold
# or shared, so GPC does not touch them. Extend this set if a purpose ever shares data outside the tenant.
GPC_RESTRICTED: frozenset[Purpose] = frozenset({Purpose.PURCHASE_LINKING})
# Purposes that need events linkable across days (a stable pseudonym instead of the daily one).
STABLE_PURPOSES: frozenset[Purpose] = frozenset({Purpose.PERSONALIZATION, Purpose.PURCHASE_LINKING})
RENEWAL_PERIOD = timedelta(days=730)  # a grant lapses after 24 months unless renewed
RENEWAL_NOTICE = timedelta(days=30)  # when the app should ask again


def purposes_for_tier(tier: int) -> frozenset[Purpose]:
    try:
        return TIER_PURPOSES[tier]
    except KeyError:
        raise ValueError(f"tier must be 0–3, got {tier}") from None


def tier_of(purposes: frozenset[Purpose]) -> int:
    """The highest tier whose purposes are all granted."""
    return max(tier for tier, needed in TIER_PURPOSES.items() if needed <= purposes)


def changes_for_tier(tier: int) -> dict[Purpose, bool]:
    """Setting a tier grants its purposes and withdraws every other one."""
    granted = purposes_for_tier(tier)
    return {purpose: purpose in granted for purpose in Purpose}


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    id: int
    tenant_id: str
    subject_id: str
    purpose: Purpose
    granted: bool  # the decision in force from this record on
    requested: bool | None  # what the subject asked for (None: a system-applied change, e.g. GPC)
    gpc: bool  # a GPC signal came with this change
    basis: Basis
    policy_version: str
    source: Source
    recorded_at: datetime
    renew_by: datetime | None  # grants lapse then; None for withdrawals

    def in_force(self, at: datetime) -> bool:
        return self.granted and (self.renew_by is None or at < self.renew_by)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "purpose": self.purpose.value,
            "granted": self.granted,
            "requested": self.requested,
            "gpc": self.gpc,
            "basis": self.basis.value,
            "policy_version": self.policy_version,
            "source": self.source.value,
            "recorded_at": self.recorded_at.isoformat(),
            "renew_by": self.renew_by.isoformat() if self.renew_by else None,
        }


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The latest record per purpose for one subject; ``known`` is False for an unknown or closed subject."""

    tenant_id: str
    subject_id: str
    known: bool
    latest: Mapping[Purpose, ConsentRecord]

    def allows(self, purpose: Purpose, at: datetime) -> bool:
        """THE rule: a known, open subject whose latest record for ``purpose`` grants it and has not lapsed."""
        record = self.latest.get(purpose)
        return self.known and record is not None and record.in_force(at)

    def purposes(self, at: datetime) -> frozenset[Purpose]:
        return frozenset(purpose for purpose in Purpose if self.allows(purpose, at))

    def tier(self, at: datetime) -> int:
        return tier_of(self.purposes(at))

    def stable_pseudonym(self, at: datetime) -> bool:
        """Whether events may be linked across days (personalization or purchase linking in force)."""
        return any(self.allows(purpose, at) for purpose in STABLE_PURPOSES)

    def renewal_due(self, at: datetime) -> bool:
        return any(
            record.in_force(at) and record.renew_by is not None and record.renew_by - at <= RENEWAL_NOTICE
            for record in self.latest.values()
        )


@dataclass(frozen=True, slots=True)
class Decision:
    purpose: Purpose
    requested: bool | None
    granted: bool
    basis: Basis


def decide(changes: Mapping[Purpose, bool], *, gpc: bool, in_force: frozenset[Purpose]) -> list[Decision]:
    """What to record for a change asked for, given the GPC signal and the purposes now in force.

    With GPC: a grant of a GPC-restricted purpose is refused and recorded as a conflict (GPC wins), and
    a restricted purpose still in force that the change does not mention is withdrawn.
    """
    decisions = []
    for purpose in Purpose:
        if purpose in changes:
            wanted = changes[purpose]
            if wanted and gpc and purpose in GPC_RESTRICTED:
                decisions.append(Decision(purpose, True, False, Basis.GPC_CONFLICT))
            else:
                decisions.append(Decision(purpose, wanted, wanted, Basis.EXPLICIT))
        elif gpc and purpose in GPC_RESTRICTED and purpose in in_force:
            decisions.append(Decision(purpose, None, False, Basis.GPC))
    return decisions
