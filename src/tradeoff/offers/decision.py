"""The decision engine, pure: one presence signal + the shopper's consent and history + the campaigns →
an issue / holdout / skip decision per matching campaign, each with a reason code.

Order (the first check that fails is the reason): trigger match → campaign live (status, window) →
trigger still fresh → consent (personalization in force, tier ≥ the campaign's minimum) → audience
segments → quiet hours → the campaign's per-shopper caps → the global fatigue cap → budget → holdout.
Caps, fatigue and budget come *before* the holdout, so the holdout group is drawn from exactly the
shoppers who would have got a coupon, and a held-out occasion counts against caps and fatigue like an
issued one: both groups see the same exposure rules, which is what makes the lift comparison fair.

Holdout assignment is a keyed hash of (campaign, pseudonym), not a coin flip per event: a shopper is in
the control group of a campaign for its whole life, and nobody without the key can tell who is.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from tradeoff.offers.campaigns import Campaign, Trigger

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
STABLE_PREFIX = "ps_"
SIGNAL_TYPES = frozenset(
    {
        "presence.zone_entered",
        "presence.zone_exited",
        "presence.dwell_reached",
        "presence.journey_ended",
        "presence.beacon_near",
    }
)


class Reason(StrEnum):
    ISSUED = "issued"
    HOLDOUT = "holdout"
    NOT_LIVE = "not_live"
    STALE_TRIGGER = "stale_trigger"
    NO_CONSENT = "no_consent"
    TIER_BELOW_MINIMUM = "tier_below_minimum"
    NOT_IN_AUDIENCE = "not_in_audience"
    QUIET_HOURS = "quiet_hours"
    CAP_DAY = "cap_day"
    CAP_WEEK = "cap_week"
    CAP_CAMPAIGN = "cap_campaign"
    FATIGUE = "fatigue"
    FATIGUE_GAP = "fatigue_gap"
    BUDGET_ISSUED = "budget_issued"
    BUDGET_REDEMPTIONS = "budget_redemptions"


Outcome = Literal["issue", "holdout", "skip"]


@dataclass(frozen=True, slots=True)
class Signal:
    """A presence event as the engine sees it. ``occasion`` names the real-world moment (a visit to a zone,
    a journey, a beacon approach): two events about the same occasion never both lead to a coupon."""

    event_id: str
    type: str
    pseudonym: str
    decided_at: datetime
    zone: str | None = None
    dwell_s: float | None = None
    beacon: str | None = None
    journey_start: bool = False
    occasion: str = ""


def signal_of(event_id: str, type_: str, payload: Mapping[str, Any]) -> Signal | None:
    """A presence event about a shopper → ``Signal``; ``None`` for anything else (anonymous entities)."""
    subject = payload.get("subject")
    if type_ not in SIGNAL_TYPES or not isinstance(subject, str) or not subject:
        return None
    try:
        decided = datetime.fromisoformat(str(payload.get("decided_at") or payload["at"]))
    except (KeyError, ValueError):
        return None
    zone = payload.get("zone") if isinstance(payload.get("zone"), str) else None
    dwell = payload.get("dwell_s")
    beacon = payload.get("beacon") if isinstance(payload.get("beacon"), str) else None
    if type_ == "presence.journey_ended":
        occasion = f"journey:{payload.get('started_at')}"
    elif type_ == "presence.beacon_near":
        occasion = f"near:{beacon}:{payload.get('at')}"
    else:
        occasion = f"visit:{zone}:{_visit_start(type_, payload)}"
    return Signal(
        event_id=event_id,
        type=type_,
        pseudonym=subject,
        decided_at=decided,
        zone=zone,
        dwell_s=float(dwell) if isinstance(dwell, int | float) else None,
        beacon=beacon,
        journey_start=bool(payload.get("journey_start")),
        occasion=occasion,
    )


def _visit_start(type_: str, payload: Mapping[str, Any]) -> str:
    """When the visit began, to the second: an entry's ``at``, an exit's ``entered_at``, a dwell mark's
    ``at − dwell_s`` — the same for every event of one visit."""
    try:
        start = datetime.fromisoformat(str(payload.get("entered_at") or payload.get("at")))
    except ValueError:
        return str(payload.get("at"))
    if type_ == "presence.dwell_reached" and isinstance(payload.get("dwell_s"), int | float):
        start -= timedelta(seconds=float(payload["dwell_s"]))
    return str(round(start.timestamp()))


def matches(trigger: Trigger, signal: Signal) -> bool:
    kind = trigger.kind
    if kind == "enter_store":
        return signal.type == "presence.zone_entered" and signal.journey_start
    if kind == "enter_zone":
        return signal.type == "presence.zone_entered" and signal.zone == trigger.zone
    if kind == "dwell":
        assert trigger.dwell_s is not None
        return (
            signal.type == "presence.dwell_reached"
            and signal.zone == trigger.zone
            and signal.dwell_s is not None
            and signal.dwell_s >= trigger.dwell_s
        )
    if kind == "exit_zone":
        return signal.type == "presence.zone_exited" and signal.zone == trigger.zone
    if kind == "exit_store":
        return signal.type == "presence.journey_ended"
    return signal.type == "presence.beacon_near" and signal.beacon == trigger.beacon


def trigger_occasion(trigger: Trigger, signal: Signal) -> str:
    """The idempotency key of a campaign's decision: a visit, a journey or an approach, never an event
    (dwell marks 120 s and 600 s of one visit are one occasion for a 'dwell ≥ 60 s' campaign)."""
    return signal.occasion


@dataclass(frozen=True, slots=True)
class Shopper:
    """Consent as checked now (on the decision's transaction), and the segments released for the shopper."""

    pseudonym: str
    consented: bool  # personalization in force for a known, open subject
    tier: int
    segments: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PastOffer:
    """An earlier issue or holdout for this shopper (both count against caps and fatigue)."""

    campaign_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    issued: int = 0
    redeemed: int = 0


@dataclass(frozen=True, slots=True)
class Fatigue:
    """The tenant's global cap per shopper, across campaigns: at most ``per_day`` offers in any 24 h and
    at least ``min_gap_s`` between two."""

    per_day: int = 3
    min_gap_s: float = 900.0


@dataclass(frozen=True, slots=True)
class Decision:
    campaign_id: str
    outcome: Outcome
    reason: Reason
    occasion: str


@dataclass(slots=True)
class _Running:
    history: list[PastOffer]
    lifetime: dict[str, int]
    counts: dict[str, CampaignCounts] = field(default_factory=dict)


def holdout_draw(key: bytes, campaign_id: str, pseudonym: str) -> float:
    """Uniform in [0, 1), fixed per (campaign, pseudonym) under the tenant's key."""
    digest = hmac.new(key, f"{campaign_id}|{pseudonym}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide(
    signal: Signal,
    *,
    shopper: Shopper,
    campaigns: Sequence[Campaign],
    history: Sequence[PastOffer],
    lifetime: Mapping[str, int],
    counts: Mapping[str, CampaignCounts],
    fatigue: Fatigue,
    now: datetime,
    holdout_key: bytes,
    max_trigger_age: timedelta = timedelta(minutes=10),
) -> list[Decision]:
    """Decisions for the campaigns whose trigger matches, highest priority first. ``history``: the
    shopper's issues and holdouts of the last 7 days; ``lifetime``: per campaign, all of them ever."""
    running = _Running(list(history), dict(lifetime), dict(counts))
    ordered = sorted(campaigns, key=lambda c: (-c.spec.priority, c.created_at, c.id))
    out = []
    for campaign in ordered:
        if not matches(campaign.spec.trigger, signal):
            continue
        outcome, reason = _one(campaign, signal, shopper, running, fatigue, now, holdout_key, max_trigger_age)
        out.append(Decision(campaign.id, outcome, reason, trigger_occasion(campaign.spec.trigger, signal)))
        if outcome != "skip":
            running.history.append(PastOffer(campaign.id, now))
            running.lifetime[campaign.id] = running.lifetime.get(campaign.id, 0) + 1
            if outcome == "issue":
                before = running.counts.get(campaign.id, CampaignCounts())
                running.counts[campaign.id] = CampaignCounts(before.issued + 1, before.redeemed)
    return out


def _one(
    campaign: Campaign,
    signal: Signal,
    shopper: Shopper,
    running: _Running,
    fatigue: Fatigue,
    now: datetime,
    holdout_key: bytes,
    max_trigger_age: timedelta,
) -> tuple[Outcome, Reason]:
    spec = campaign.spec
    if not spec.live_at(now):
        return "skip", Reason.NOT_LIVE
    if now - signal.decided_at > max_trigger_age:
        return "skip", Reason.STALE_TRIGGER
    if not shopper.consented or not shopper.pseudonym.startswith(STABLE_PREFIX):
        return "skip", Reason.NO_CONSENT
    if shopper.tier < spec.audience.min_tier:
        return "skip", Reason.TIER_BELOW_MINIMUM
    if spec.audience.segments and not shopper.segments & set(spec.audience.segments):
        return "skip", Reason.NOT_IN_AUDIENCE
    if spec.quiet_at(now):
        return "skip", Reason.QUIET_HOURS
    mine = [past.at for past in running.history if past.campaign_id == campaign.id]
    caps = spec.caps
    if caps.per_campaign is not None and running.lifetime.get(campaign.id, 0) >= caps.per_campaign:
        return "skip", Reason.CAP_CAMPAIGN
    if caps.per_week is not None and _within(mine, now, WEEK) >= caps.per_week:
        return "skip", Reason.CAP_WEEK
    if caps.per_day is not None and _within(mine, now, DAY) >= caps.per_day:
        return "skip", Reason.CAP_DAY
    every = [past.at for past in running.history]
    if _within(every, now, DAY) >= fatigue.per_day:
        return "skip", Reason.FATIGUE
    if every and (now - max(every)).total_seconds() < fatigue.min_gap_s:
        return "skip", Reason.FATIGUE_GAP
    count = running.counts.get(campaign.id, CampaignCounts())
    if spec.budget.max_issued is not None and count.issued >= spec.budget.max_issued:
        return "skip", Reason.BUDGET_ISSUED
    if spec.budget.max_redemptions is not None and count.redeemed >= spec.budget.max_redemptions:
        return "skip", Reason.BUDGET_REDEMPTIONS
    if spec.holdout > 0 and holdout_draw(holdout_key, campaign.id, shopper.pseudonym) < spec.holdout:
        return "holdout", Reason.HOLDOUT
    return "issue", Reason.ISSUED


def _within(times: Sequence[datetime], now: datetime, window: timedelta) -> int:
    """Rolling window ``(now − window, now]``."""
    return sum(1 for at in times if now - window < at <= now)
