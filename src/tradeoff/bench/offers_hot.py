"""The in-memory hot path of one sighting: decode → validate → privacy gate → tracker → decision → code.

Every step is the platform's own code: the ``espresense`` gateway decoder (with the privacy keyer) or the
app report (``AppReport`` + ``report_events``), ``validate_event``, ``PrivacyGate.check`` (consent,
pseudonyms, MAC tokens), ``Sighting.from_event``, a ``LiveTracker`` stepped as ``PresenceProcessor`` steps
it (tick every 5 s of event time, journey starts), ``decision.decide`` and, for an issue,
``lifecycle.issue`` + ``codes.make_code``. What is *not* here is storage: consent states, the decision
ledger and the serial counter are dictionaries, so this is the path's CPU cost without I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tradeoff.core.events import EventIn
from tradeoff.offers.campaigns import Campaign, CampaignSpec
from tradeoff.offers.coupons.codes import make_code
from tradeoff.offers.coupons.lifecycle import issue
from tradeoff.offers.decision import CampaignCounts, Fatigue, PastOffer, Shopper, decide, signal_of
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.validation import validate_event
from tradeoff.presence.app_reports import AppReport, report_events
from tradeoff.presence.gateways.decoders import DIALECTS, GatewayDecoder
from tradeoff.presence.gateways.events import privacy_keyer
from tradeoff.presence.gateways.sighting import Sighting
from tradeoff.presence.processor import TICK_S
from tradeoff.presence.tracking import JourneyEnded, LiveTracker, PathLossZones, Receiver, TrackerConfig, ZoneEntered
from tradeoff.privacy.consent.model import Basis, ConsentRecord, ConsentState, Purpose, Source, purposes_for_tier
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.subjects.pseudonyms import Pseudonymizer

TENANT = "bench-tenant"
SUBJECT_PREFIX = "subject:"
DWELL_MARKS = (30.0, 60.0, 120.0, 300.0, 600.0)  # the presence processor's


class MemoryConsent:
    """A ``ConsentReader`` over states built in memory (the platform's reader is a cached ledger query)."""

    def __init__(self, states: Mapping[str, ConsentState]) -> None:
        self.states = dict(states)

    def state(self, *, tenant_id: str, subject_id: str, at: datetime | None = None) -> ConsentState:
        found = self.states.get(subject_id)
        return found or ConsentState(tenant_id=tenant_id, subject_id=subject_id, known=False, latest={})


def consent_at_tier(subject_id: str, tier: int, at: datetime) -> ConsentState:
    granted = purposes_for_tier(tier)
    latest = {
        purpose: ConsentRecord(
            id=i, tenant_id=TENANT, subject_id=subject_id, purpose=purpose, granted=purpose in granted,
            requested=purpose in granted, gpc=False, basis=Basis.EXPLICIT, policy_version="bench", source=Source.APP,
            recorded_at=at, renew_by=at + timedelta(days=730) if purpose in granted else None,
        )
        for i, purpose in enumerate(Purpose)
    }  # fmt: skip
    return ConsentState(tenant_id=TENANT, subject_id=subject_id, known=True, latest=latest)


@dataclass
class Tally:
    sightings: int = 0
    stored: int = 0  # passed the gate
    presence_events: int = 0
    decisions: int = 0
    coupons: int = 0
    holdouts: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)


@dataclass
class _Ledger:
    history: dict[str, list[PastOffer]] = field(default_factory=dict)
    lifetime: dict[tuple[str, str], int] = field(default_factory=dict)
    counts: dict[str, CampaignCounts] = field(default_factory=dict)
    occasions: set[tuple[str, str, str]] = field(default_factory=set)
    serial: int = 0


class HotPath:
    """One tenant's chain of stores; ``handle`` runs one arrival through everything and says what it issued."""

    def __init__(
        self,
        *,
        keys: KeyProvider,
        receivers: list[dict[str, Any]],
        consent: Mapping[str, ConsentState],
        campaigns: list[dict[str, Any]],
        coupon_key: bytes,
        holdout_key: bytes,
        start: datetime,
    ) -> None:
        self.pseudonyms = Pseudonymizer(keys)
        self.gate = PrivacyGate(consent=MemoryConsent(consent), pseudonyms=self.pseudonyms)
        self.decoder = GatewayDecoder("espresense", DIALECTS["espresense"], keyer=privacy_keyer(keys))
        zones = PathLossZones(
            receivers={
                r["key"]: Receiver(zone=r["zone"], measured_power=float(r.get("measured_power", -59)))
                for r in receivers
            }
        )
        self.tracker = LiveTracker(zones, config=TrackerConfig(dwell_marks_s=DWELL_MARKS))
        self.consent = dict(consent)
        self.resolver = {self.pseudonyms.stable(TENANT, s): s for s in consent}  # as PseudonymResolver caches
        self.campaigns = [
            Campaign(id=f"c{i:03d}", tenant_id=TENANT, spec=CampaignSpec.model_validate(spec), created_at=start,
                     updated_at=start)
            for i, spec in enumerate(campaigns)
        ]  # fmt: skip
        self.coupon_key = coupon_key
        self.holdout_key = holdout_key
        self.fatigue = Fatigue()
        self.ledger = _Ledger()
        self.tally = Tally()
        self._clock = 0.0
        self._last_tick = 0.0

    def handle(self, kind: str, source: str, body: bytes, now: datetime) -> int:
        """One arrival (``now`` = its event time); returns the number of coupons it issued."""
        if kind == "gateway":
            message = RawMessage(body=body, transport="mqtt", tenant_id=TENANT, received_at=now, source=source)
            envelopes = [candidate.data for candidate in self.decoder.decode(message)]
        else:
            report = AppReport.model_validate_json(body)
            envelopes = report_events(report, subject_id=source, consent=self.consent[source], now=now).events
        issued = 0
        for envelope in envelopes:
            self.tally.sightings += 1
            event = self.gate.check(tenant_id=TENANT, event=validate_event(envelope, bound_source=envelope["source"]))
            if event is not None:
                self.tally.stored += 1
                issued += self._track(event, now)
        return issued

    def _track(self, event: EventIn, now: datetime) -> int:
        """``PresenceProcessor._step`` on one event, then the offers processor's decision on its outputs."""
        assert event.source is not None
        t = min(event.occurred_at, now).timestamp()
        self._clock = max(self._clock, t)
        outputs: list[tuple[Any, bool]] = []
        if self._clock - self._last_tick >= TICK_S:
            at = datetime.fromtimestamp(self._clock, UTC)
            outputs.extend((item, False) for item in self.tracker.tick(at))
            self._last_tick = self._clock
        sighting = Sighting.from_event(payload=event.payload, occurred_at=event.occurred_at, source=event.source)
        entity, _receiver = self.tracker.keys(sighting)
        before = self.tracker.zones.state(entity)
        open_journey = before is not None and (before.zone is not None or bool(before.visits))
        for item in self.tracker.observe(sighting):
            outputs.append((item, isinstance(item, ZoneEntered) and not open_journey))
            if isinstance(item, JourneyEnded):
                open_journey = False
            elif isinstance(item, ZoneEntered):
                open_journey = True
        issued = 0
        for item, journey_start in outputs:
            self.tally.presence_events += 1
            issued += self._offer(item, journey_start, now)
        return issued

    def _offer(self, item: Any, journey_start: bool, now: datetime) -> int:
        payload = item.to_json()
        entity = payload.pop("entity")
        if not entity.startswith(SUBJECT_PREFIX):
            return 0  # anonymous devices and beacon tags only count in occupancy
        payload["subject"] = entity.removeprefix(SUBJECT_PREFIX)
        if isinstance(item, ZoneEntered):
            payload["journey_start"] = journey_start
        signal = signal_of(f"prs-{self.tally.presence_events}", item.type, payload)
        if signal is None:
            return 0
        ledger = self.ledger
        subject = self.resolver.get(signal.pseudonym)
        state = self.consent.get(subject) if subject else None
        shopper = Shopper(
            pseudonym=signal.pseudonym,
            consented=state is not None and state.allows(Purpose.PERSONALIZATION, now),
            tier=state.tier(now) if state is not None else 0,
        )
        fresh = [c for c in self.campaigns if (c.id, signal.pseudonym, signal.occasion) not in ledger.occasions]
        decisions = decide(
            signal, shopper=shopper, campaigns=fresh, history=ledger.history.get(signal.pseudonym, []),
            lifetime={c.id: ledger.lifetime.get((c.id, signal.pseudonym), 0) for c in fresh},
            counts=ledger.counts, fatigue=self.fatigue, now=now, holdout_key=self.holdout_key,
        )  # fmt: skip
        issued = 0
        for decision in decisions:
            self.tally.decisions += 1
            if decision.outcome == "skip":
                self.tally.skipped[decision.reason.value] = self.tally.skipped.get(decision.reason.value, 0) + 1
                continue
            ledger.occasions.add((decision.campaign_id, signal.pseudonym, decision.occasion))
            ledger.history.setdefault(signal.pseudonym, []).append(PastOffer(decision.campaign_id, now))
            key = (decision.campaign_id, signal.pseudonym)
            ledger.lifetime[key] = ledger.lifetime.get(key, 0) + 1
            if decision.outcome == "holdout":
                self.tally.holdouts += 1
                continue
            ledger.serial += 1
            before = ledger.counts.get(decision.campaign_id, CampaignCounts())
            ledger.counts[decision.campaign_id] = CampaignCounts(before.issued + 1, before.redeemed)
            issue(serial=ledger.serial, valid_from=now, valid_until=now + timedelta(days=7))
            self.tally.codes.append(make_code(key=self.coupon_key, serial=ledger.serial))
            self.tally.coupons += 1
            issued += 1
        return issued
