"""Bus processor: presence signals → decisions → coupons, ledger rows and outbox rows, one transaction.

For each ``presence.*`` event about a shopper that matches a live campaign's trigger:
1. the pseudonym is resolved to its subject and **consent is read again now, on this transaction** — a
   withdrawal committed after the sighting was accepted wins; a daily pseudonym (tier 1) never resolves.
   Both are read once per batch: the batch's pseudonyms are resolved together (``StablePseudonymIndex``,
   the privacy core's lookup) and the consent of all their subjects is read in one query at the start of
   the batch, on the batch's transaction (``read_snapshot``), and dropped at its end — every decision of
   the batch is taken on the state committed when the batch began, and a withdrawal committed after it
   stops coupons from the next batch on;
2. the shopper's recent issues/holdouts, the campaigns' counters and the tenant's fatigue cap are read;
3. ``decision.decide`` (pure) says issue / holdout / skip per campaign;
4. an issue or a holdout is inserted into ``offer_decisions`` (unique per campaign, pseudonym and
   occasion: a redelivered or re-derived trigger inserts nothing and so issues nothing), and only when
   that insert took place: a coupon (serial from the tenant's counter), an outbox row, counters.
The checkpoint moves in the same transaction (the bus), so a crash keeps all of it or none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Connection, Executable, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tradeoff.core.clock import Clock, SystemClock
from tradeoff.core.events import Event
from tradeoff.core.ids import new_id
from tradeoff.offers.campaigns import Campaign
from tradeoff.offers.decision import (
    SIGNAL_TYPES,
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
from tradeoff.privacy.consent.model import Purpose
from tradeoff.privacy.consent.snapshot import ConsentSnapshot, read_snapshot
from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.subjects.pseudonyms import Pseudonymizer
from tradeoff.privacy.subjects.resolve import StablePseudonymIndex

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
    """Stable pseudonym → subject id for the offers capability, through the privacy core's
    ``StablePseudonymIndex`` (recomputes the keyed pseudonyms of the tenant's subjects: the key never
    leaves the key provider, so this is the only way back; what it computed is kept per tenant)."""

    def __init__(self, pseudonyms: Pseudonymizer) -> None:
        self.pseudonyms = pseudonyms
        self.index = StablePseudonymIndex(pseudonyms)

    def subject_of(self, conn: Connection, tenant_id: str, pseudonym: str) -> str | None:
        return self.subjects_of(conn, tenant_id, [pseudonym]).get(pseudonym)

    def subjects_of(self, conn: Connection, tenant_id: str, pseudonyms: Iterable[str]) -> dict[str, str]:
        """The subjects of those ``pseudonyms`` that resolve (stable ones of the tenant's subjects)."""
        return self.index.subjects_of(conn, tenant_id=tenant_id, pseudonyms=pseudonyms)


@dataclass(frozen=True, slots=True)
class _Batch:
    """What one ``apply`` read once for all its signals: subject per (tenant, pseudonym) and their consent
    on this transaction. Lives for one batch only."""

    subjects: dict[tuple[str, str], str]
    consent: ConsentSnapshot


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
        work: list[tuple[str, Signal, list[Campaign]]] = []
        for event in events:
            signal = signal_of(event.event_id, event.type, event.payload)
            if signal is None:
                continue
            if event.tenant_id not in live:
                live[event.tenant_id] = _active_campaigns(conn, event.tenant_id)
            candidates = [c for c in live[event.tenant_id] if matches(c.spec.trigger, signal)]
            if candidates:
                work.append((event.tenant_id, signal, candidates))
        if not work:
            return
        batch = self._read_batch(conn, [(tenant_id, signal.pseudonym) for tenant_id, signal, _ in work])
        for tenant_id, signal, candidates in work:
            self._decide(conn, tenant_id, signal, candidates, batch)

    def _read_batch(self, conn: Connection, shoppers: list[tuple[str, str]]) -> _Batch:
        """Every shopper of the batch resolved at once, then the consent of all of them in one query per
        tenant — on ``conn``, the batch's transaction, at its start."""
        by_tenant: dict[str, set[str]] = {}
        for tenant_id, pseudonym in shoppers:
            by_tenant.setdefault(tenant_id, set()).add(pseudonym)
        subjects: dict[tuple[str, str], str] = {}
        for tenant_id, pseudonyms in by_tenant.items():
            found = self.resolver.subjects_of(conn, tenant_id, pseudonyms)
            subjects.update(((tenant_id, pseudonym), subject_id) for pseudonym, subject_id in found.items())
        consent = read_snapshot(conn, {(tenant_id, subject_id) for (tenant_id, _), subject_id in subjects.items()})
        return _Batch(subjects=subjects, consent=consent)

    def _decide(
        self, conn: Connection, tenant_id: str, signal: Signal, candidates: list[Campaign], batch: _Batch
    ) -> None:
        now = self.clock.now()
        done = _already_decided(conn, tenant_id, signal, [c.id for c in candidates])
        campaigns = [c for c in candidates if c.id not in done]
        if not campaigns:
            return
        ids = [c.id for c in campaigns]
        decisions = decide(
            signal,
            shopper=self._shopper(conn, tenant_id, signal.pseudonym, now, batch),
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

    def _shopper(self, conn: Connection, tenant_id: str, pseudonym: str, now: datetime, batch: _Batch) -> Shopper:
        subject_id = batch.subjects.get((tenant_id, pseudonym))
        if subject_id is None:
            return Shopper(pseudonym=pseudonym, consented=False, tier=0)
        state = batch.consent.state(tenant_id=tenant_id, subject_id=subject_id)
        return Shopper(
            pseudonym=pseudonym,
            consented=state.allows(Purpose.PERSONALIZATION, now),
            tier=state.tier(now),
            segments=self.segments(conn, tenant_id, pseudonym),
        )


# The queries of the per-signal path, built once with bound parameters: building a statement per call
# cost about as much as running it. Names of parameters bound in SET clauses must not be column names.
_D = offer_decisions.c
_K = offer_campaign_counters.c
_S = offer_settings.c
_ACTIVE = select(offer_campaigns).where(
    offer_campaigns.c.tenant_id == bindparam("tenant_id"), offer_campaigns.c.status == "active"
)
_ALREADY_DECIDED = select(_D.campaign_id).where(
    _D.tenant_id == bindparam("tenant_id"), _D.pseudonym == bindparam("pseudonym"),
    _D.occasion == bindparam("occasion"), _D.campaign_id.in_(bindparam("campaign_ids", expanding=True)),
)  # fmt: skip
_HISTORY = select(_D.campaign_id, _D.decided_at).where(
    _D.tenant_id == bindparam("tenant_id"), _D.pseudonym == bindparam("pseudonym"), _D.decided_at > bindparam("since")
)
_LIFETIME = (
    select(_D.campaign_id, func.count())
    .where(_D.tenant_id == bindparam("tenant_id"), _D.pseudonym == bindparam("pseudonym"),
           _D.campaign_id.in_(bindparam("campaign_ids", expanding=True)))
    .group_by(_D.campaign_id)
)  # fmt: skip
_COUNTS = select(_K.campaign_id, _K.issued, _K.redeemed).where(
    _K.tenant_id == bindparam("tenant_id"), _K.campaign_id.in_(bindparam("campaign_ids", expanding=True))
)
_SKIPPED = select(_K.skipped).where(_K.campaign_id == bindparam("campaign_id"))
_SET_SKIPPED = (
    update(offer_campaign_counters)
    .where(_K.campaign_id == bindparam("b_campaign_id"))
    .values(
        skipped=bindparam("b_skipped", type_=_K.skipped.type),
        updated_at=bindparam("b_now", type_=_K.updated_at.type),
    )
)
_COUNT_HELD_OUT = (
    update(offer_campaign_counters)
    .where(_K.campaign_id == bindparam("b_campaign_id"))
    .values(held_out=_K.held_out + 1, updated_at=bindparam("b_now", type_=_K.updated_at.type))
)
_COUNT_ISSUED = (
    update(offer_campaign_counters)
    .where(_K.campaign_id == bindparam("b_campaign_id"))
    .values(issued=_K.issued + 1, updated_at=bindparam("b_now", type_=_K.updated_at.type))
)
_INSERT_COUPON = insert(offer_coupons)
_INSERT_OUTBOX = insert(offer_outbox)
_TAKE_SERIAL = (
    update(offer_settings)
    .where(_S.tenant_id == bindparam("b_tenant_id"))
    .values(next_serial=_S.next_serial + 1)
    .returning(_S.next_serial)
)


def _insert_or_nothing(table: Table, unique: list[str], *returning: Column[Any]) -> dict[str, Executable]:
    """``INSERT … ON CONFLICT (unique) DO NOTHING [RETURNING …]`` per dialect."""
    pg = postgresql.insert(table).on_conflict_do_nothing(index_elements=unique)
    lite = sqlite.insert(table).on_conflict_do_nothing(index_elements=unique)
    if returning:
        return {"postgresql": pg.returning(*returning), "sqlite": lite.returning(*returning)}
    return {"postgresql": pg, "sqlite": lite}


_INSERT_DECISION = _insert_or_nothing(offer_decisions, ["tenant_id", "campaign_id", "pseudonym", "occasion"], _D.id)
_ENSURE_COUNTERS = _insert_or_nothing(offer_campaign_counters, ["campaign_id"])


def _active_campaigns(conn: Connection, tenant_id: str) -> list[Campaign]:
    return [campaign_of_row(row) for row in conn.execute(_ACTIVE, {"tenant_id": tenant_id})]


def _already_decided(conn: Connection, tenant_id: str, signal: Signal, campaign_ids: list[str]) -> set[str]:
    params = {"tenant_id": tenant_id, "pseudonym": signal.pseudonym, "occasion": signal.occasion[:200],
              "campaign_ids": campaign_ids}  # fmt: skip
    return set(conn.execute(_ALREADY_DECIDED, params).scalars())


def _history(conn: Connection, tenant_id: str, pseudonym: str, now: datetime) -> list[PastOffer]:
    params = {"tenant_id": tenant_id, "pseudonym": pseudonym, "since": now - WEEK}
    return [PastOffer(row.campaign_id, row.decided_at) for row in conn.execute(_HISTORY, params)]


def _lifetime(conn: Connection, tenant_id: str, pseudonym: str, campaign_ids: list[str]) -> dict[str, int]:
    params = {"tenant_id": tenant_id, "pseudonym": pseudonym, "campaign_ids": campaign_ids}
    return {campaign_id: int(count) for campaign_id, count in conn.execute(_LIFETIME, params)}


def _counts(conn: Connection, tenant_id: str, campaign_ids: list[str]) -> dict[str, CampaignCounts]:
    rows = conn.execute(_COUNTS, {"tenant_id": tenant_id, "campaign_ids": campaign_ids})
    return {row.campaign_id: CampaignCounts(row.issued, row.redeemed) for row in rows}


def _record(
    conn: Connection, tenant_id: str, signal: Signal, campaign: Campaign, decision: Decision, now: datetime
) -> None:
    _ensure_counters(conn, tenant_id, campaign.id, now)
    if decision.outcome == "skip":
        skipped = dict(conn.execute(_SKIPPED, {"campaign_id": campaign.id}).scalar_one())
        skipped[decision.reason.value] = int(skipped.get(decision.reason.value, 0)) + 1
        conn.execute(_SET_SKIPPED, {"b_campaign_id": campaign.id, "b_skipped": skipped, "b_now": now})
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
    if conn.execute(_INSERT_DECISION[conn.dialect.name], row).first() is None:
        return  # this occasion was decided before: nothing more
    if coupon_id is None:
        conn.execute(_COUNT_HELD_OUT, {"b_campaign_id": campaign.id, "b_now": now})
        return
    _issue(conn, tenant_id, signal.pseudonym, campaign, coupon_id, now)


def _issue(conn: Connection, tenant_id: str, pseudonym: str, campaign: Campaign, coupon_id: str, now: datetime) -> None:
    spec = campaign.spec
    expires_at = now + timedelta(hours=spec.coupon_valid_hours)
    serial = _next_serial(conn, tenant_id, now)
    conn.execute(
        _INSERT_COUPON,
        dict(id=coupon_id, tenant_id=tenant_id, campaign_id=campaign.id, pseudonym=pseudonym, serial=serial,
             status="issued", issued_at=now, expires_at=expires_at, transaction_id=None, hold_until=None,
             rolled_back_by=None, void_reason=None, version=0, redeemed_at=None, updated_at=now),
    )  # fmt: skip
    payload: dict[str, Any] = {
        "coupon_id": coupon_id,
        "campaign_id": campaign.id,
        "title": spec.offer.title,
        "offer": spec.offer.model_dump(mode="json"),
        "expires_at": expires_at.isoformat(),
    }
    conn.execute(
        _INSERT_OUTBOX,
        dict(tenant_id=tenant_id, coupon_id=coupon_id, campaign_id=campaign.id, pseudonym=pseudonym, channel="app",
             payload=payload, status="pending", attempts=0, next_attempt_at=now, last_error=None, created_at=now,
             sent_at=None),
    )  # fmt: skip
    conn.execute(_COUNT_ISSUED, {"b_campaign_id": campaign.id, "b_now": now})


def _ensure_counters(conn: Connection, tenant_id: str, campaign_id: str, now: datetime) -> None:
    values = dict(campaign_id=campaign_id, tenant_id=tenant_id, issued=0, held_out=0, redeemed=0, skipped={},
                  updated_at=now)  # fmt: skip
    conn.execute(_ENSURE_COUNTERS[conn.dialect.name], values)


def _next_serial(conn: Connection, tenant_id: str, now: datetime) -> int:
    """The tenant's next coupon serial, taken in one statement (the settings row is created first time)."""
    taken = conn.execute(_TAKE_SERIAL, {"b_tenant_id": tenant_id}).scalar()
    if taken is None:
        load_settings(conn, tenant_id=tenant_id, create=True, now=now)
        taken = conn.execute(_TAKE_SERIAL, {"b_tenant_id": tenant_id}).scalar_one()
    return int(taken) - 1
