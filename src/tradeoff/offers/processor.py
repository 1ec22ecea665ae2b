"""Bus processor: presence signals → decisions → coupons, ledger rows and outbox rows, one transaction.

For each ``presence.*`` event about a shopper that matches a live campaign's trigger:
1. the pseudonym is resolved to its subject and **consent is read again now, on this transaction** — a
   withdrawal committed after the sighting was accepted wins; a daily pseudonym (tier 1) never resolves;
2. the shopper's recent issues/holdouts, the campaigns' counters and the tenant's fatigue cap are read;
3. ``decision.decide`` (pure) says issue / holdout / skip per campaign;
4. an issue or a holdout is inserted into ``offer_decisions`` (unique per campaign, pseudonym and
   occasion: a redelivered or re-derived trigger inserts nothing and so issues nothing), and only when
   that insert took place: a coupon (serial from the tenant's counter), an outbox row, counters.
The checkpoint moves in the same transaction (the bus), so a crash keeps all of it or none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tradeoff.core.clock import Clock, SystemClock
from tradeoff.core.events import Event
from tradeoff.core.ids import new_id
from tradeoff.offers.campaigns import Campaign
from tradeoff.offers.decision import (
    SIGNAL_TYPES,
    STABLE_PREFIX,
    WEEK,
    CampaignCounts,
    Decision,
    PastOffer,
    Shopper,
    Signal,
    decide,
    matches,
    signal_of,
)
from tradeoff.offers.service import campaign_of_row, fatigue_of, load_settings
from tradeoff.offers.store import (
    offer_campaign_counters,
    offer_campaigns,
    offer_coupons,
    offer_decisions,
    offer_outbox,
    offer_settings,
)
from tradeoff.privacy.consent.ledger import consent_state
from tradeoff.privacy.consent.model import Purpose
from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.subjects.pseudonyms import Pseudonymizer
from tradeoff.privacy.subjects.store import subjects

HOLDOUT_PURPOSE = "offers-holdout"
_HOLDOUT_LABEL = b"offers-holdout/v1"
Segments = Callable[[Connection, str, str], frozenset[str]]  # (conn, tenant, pseudonym) → released segments
HoldoutKey = Callable[[str], bytes]


def holdout_key_of(keys: KeyProvider) -> HoldoutKey:
    """The tenant's holdout key: a MAC under the key provider (never in the database), so nobody with only
    a dump can tell who is in a control group."""

    def key(tenant_id: str) -> bytes:
        return keys.mac(tenant_id, HOLDOUT_PURPOSE, _HOLDOUT_LABEL)

    return key


def no_segments(_conn: Connection, _tenant_id: str, _pseudonym: str) -> frozenset[str]:
    """Until analytics releases preference segments, no shopper is in any segment."""
    return frozenset()


class PseudonymResolver:
    """Stable pseudonym → subject id, by recomputing the keyed pseudonym of the tenant's subjects (the key
    never leaves the key provider, so this is the only way back). Cached per tenant; on a miss, only the
    subjects registered since are added (one id query, one MAC per new subject)."""

    def __init__(self, pseudonyms: Pseudonymizer) -> None:
        self.pseudonyms = pseudonyms
        self._maps: dict[str, dict[str, str]] = {}
        self._known: dict[str, set[str]] = {}

    def subject_of(self, conn: Connection, tenant_id: str, pseudonym: str) -> str | None:
        if not pseudonym.startswith(STABLE_PREFIX):
            return None  # daily pseudonyms (tier 1) link nothing, by design
        mapping = self._maps.setdefault(tenant_id, {})
        if pseudonym not in mapping:
            known = self._known.setdefault(tenant_id, set())
            ids = conn.execute(select(subjects.c.subject_id).where(subjects.c.tenant_id == tenant_id)).scalars()
            for subject_id in set(ids) - known:
                mapping[self.pseudonyms.stable(tenant_id, subject_id)] = subject_id
                known.add(subject_id)
        return mapping.get(pseudonym)


class OffersProcessor:
    name = "offers"
    event_types: frozenset[str] | None = SIGNAL_TYPES

    def __init__(
        self,
        *,
        resolver: PseudonymResolver,
        holdout_key: HoldoutKey,
        segments: Segments = no_segments,
        clock: Clock | None = None,
        max_trigger_age: timedelta = timedelta(minutes=10),
    ) -> None:
        self.resolver = resolver
        self.holdout_key = holdout_key
        self.segments = segments
        self.clock = clock or SystemClock()
        self.max_trigger_age = max_trigger_age

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        live: dict[str, list[Campaign]] = {}
        for event in events:
            signal = signal_of(event.event_id, event.type, event.payload)
            if signal is None:
                continue
            if event.tenant_id not in live:
                live[event.tenant_id] = _active_campaigns(conn, event.tenant_id)
            candidates = [c for c in live[event.tenant_id] if matches(c.spec.trigger, signal)]
            if candidates:
                self._decide(conn, event.tenant_id, signal, candidates)

    def _decide(self, conn: Connection, tenant_id: str, signal: Signal, candidates: list[Campaign]) -> None:
        now = self.clock.now()
        done = _already_decided(conn, tenant_id, signal, [c.id for c in candidates])
        campaigns = [c for c in candidates if c.id not in done]
        if not campaigns:
            return
        ids = [c.id for c in campaigns]
        decisions = decide(
            signal,
            shopper=self._shopper(conn, tenant_id, signal.pseudonym, now),
            campaigns=campaigns,
            history=_history(conn, tenant_id, signal.pseudonym, now),
            lifetime=_lifetime(conn, tenant_id, signal.pseudonym, ids),
            counts=_counts(conn, tenant_id, ids),
            fatigue=fatigue_of(load_settings(conn, tenant_id=tenant_id)),
            now=now,
            holdout_key=self.holdout_key(tenant_id),
            max_trigger_age=self.max_trigger_age,
        )
        by_id = {c.id: c for c in campaigns}
        for decision in decisions:
            _record(conn, tenant_id, signal, by_id[decision.campaign_id], decision, now)

    def _shopper(self, conn: Connection, tenant_id: str, pseudonym: str, now: datetime) -> Shopper:
        subject_id = self.resolver.subject_of(conn, tenant_id, pseudonym)
        if subject_id is None:
            return Shopper(pseudonym=pseudonym, consented=False, tier=0)
        state = consent_state(conn, tenant_id=tenant_id, subject_id=subject_id)
        return Shopper(
            pseudonym=pseudonym,
            consented=state.allows(Purpose.PERSONALIZATION, now),
            tier=state.tier(now),
            segments=self.segments(conn, tenant_id, pseudonym),
        )


def _active_campaigns(conn: Connection, tenant_id: str) -> list[Campaign]:
    query = select(offer_campaigns).where(
        offer_campaigns.c.tenant_id == tenant_id, offer_campaigns.c.status == "active"
    )
    return [campaign_of_row(row) for row in conn.execute(query)]


def _already_decided(conn: Connection, tenant_id: str, signal: Signal, campaign_ids: list[str]) -> set[str]:
    d = offer_decisions.c
    query = select(d.campaign_id).where(
        d.tenant_id == tenant_id, d.pseudonym == signal.pseudonym, d.occasion == signal.occasion[:200],
        d.campaign_id.in_(campaign_ids),
    )  # fmt: skip
    return set(conn.execute(query).scalars())


def _history(conn: Connection, tenant_id: str, pseudonym: str, now: datetime) -> list[PastOffer]:
    d = offer_decisions.c
    query = select(d.campaign_id, d.decided_at).where(
        d.tenant_id == tenant_id, d.pseudonym == pseudonym, d.decided_at > now - WEEK
    )
    return [PastOffer(row.campaign_id, row.decided_at) for row in conn.execute(query)]


def _lifetime(conn: Connection, tenant_id: str, pseudonym: str, campaign_ids: list[str]) -> dict[str, int]:
    d = offer_decisions.c
    query = (
        select(d.campaign_id, func.count())
        .where(d.tenant_id == tenant_id, d.pseudonym == pseudonym, d.campaign_id.in_(campaign_ids))
        .group_by(d.campaign_id)
    )
    return {campaign_id: int(count) for campaign_id, count in conn.execute(query)}


def _counts(conn: Connection, tenant_id: str, campaign_ids: list[str]) -> dict[str, CampaignCounts]:
    c = offer_campaign_counters.c
    query = select(c.campaign_id, c.issued, c.redeemed).where(c.tenant_id == tenant_id, c.campaign_id.in_(campaign_ids))
    return {row.campaign_id: CampaignCounts(row.issued, row.redeemed) for row in conn.execute(query)}


def _record(
    conn: Connection, tenant_id: str, signal: Signal, campaign: Campaign, decision: Decision, now: datetime
) -> None:
    _ensure_counters(conn, tenant_id, campaign.id, now)
    counters = offer_campaign_counters.c
    if decision.outcome == "skip":
        skipped = dict(conn.execute(select(counters.skipped).where(counters.campaign_id == campaign.id)).scalar_one())
        skipped[decision.reason.value] = int(skipped.get(decision.reason.value, 0)) + 1
        conn.execute(
            update(offer_campaign_counters)
            .where(counters.campaign_id == campaign.id)
            .values(skipped=skipped, updated_at=now)
        )
        return
    coupon_id = new_id() if decision.outcome == "issue" else None
    row = {
        "tenant_id": tenant_id,
        "campaign_id": campaign.id,
        "pseudonym": signal.pseudonym,
        "occasion": decision.occasion[:200],
        "trigger_event_id": signal.event_id,
        "outcome": decision.outcome,
        "coupon_id": coupon_id,
        "decided_at": now,
    }
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = (
        dialect_insert(offer_decisions)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["tenant_id", "campaign_id", "pseudonym", "occasion"])
        .returning(offer_decisions.c.id)
    )
    if conn.execute(stmt).first() is None:
        return  # this occasion was decided before: nothing more
    if coupon_id is None:
        conn.execute(
            update(offer_campaign_counters)
            .where(counters.campaign_id == campaign.id)
            .values(held_out=counters.held_out + 1, updated_at=now)
        )
        return
    _issue(conn, tenant_id, signal.pseudonym, campaign, coupon_id, now)


def _issue(conn: Connection, tenant_id: str, pseudonym: str, campaign: Campaign, coupon_id: str, now: datetime) -> None:
    spec = campaign.spec
    expires_at = now + timedelta(hours=spec.coupon_valid_hours)
    serial = _next_serial(conn, tenant_id, now)
    conn.execute(
        insert(offer_coupons).values(
            id=coupon_id, tenant_id=tenant_id, campaign_id=campaign.id, pseudonym=pseudonym, serial=serial,
            status="issued", issued_at=now, expires_at=expires_at, transaction_id=None, hold_until=None,
            rolled_back_by=None, void_reason=None, version=0, redeemed_at=None, updated_at=now,
        )
    )  # fmt: skip
    payload: dict[str, Any] = {
        "coupon_id": coupon_id,
        "campaign_id": campaign.id,
        "title": spec.offer.title,
        "offer": spec.offer.model_dump(mode="json"),
        "expires_at": expires_at.isoformat(),
    }
    conn.execute(
        insert(offer_outbox).values(
            tenant_id=tenant_id, coupon_id=coupon_id, campaign_id=campaign.id, pseudonym=pseudonym, channel="app",
            payload=payload, status="pending", attempts=0, next_attempt_at=now, last_error=None, created_at=now,
            sent_at=None,
        )
    )  # fmt: skip
    counters = offer_campaign_counters.c
    conn.execute(
        update(offer_campaign_counters)
        .where(counters.campaign_id == campaign.id)
        .values(issued=counters.issued + 1, updated_at=now)
    )


def _ensure_counters(conn: Connection, tenant_id: str, campaign_id: str, now: datetime) -> None:
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        dialect_insert(offer_campaign_counters)
        .values(campaign_id=campaign_id, tenant_id=tenant_id, issued=0, held_out=0, redeemed=0, skipped={},
                updated_at=now)
        .on_conflict_do_nothing(index_elements=["campaign_id"])
    )  # fmt: skip


def _next_serial(conn: Connection, tenant_id: str, now: datetime) -> int:
    load_settings(conn, tenant_id=tenant_id, create=True, now=now)
    s = offer_settings.c
    serial = conn.execute(select(s.next_serial).where(s.tenant_id == tenant_id)).scalar_one()
    conn.execute(update(offer_settings).where(s.tenant_id == tenant_id).values(next_serial=s.next_serial + 1))
    return int(serial)
