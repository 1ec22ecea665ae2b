"""The decision engine: the order of checks and their reason codes, and the holdout draw."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.unit.offers.factories import KEY, T0, campaign, signal
from tradeoff.offers.campaigns import Campaign
from tradeoff.offers.decision import (
    CampaignCounts,
    Decision,
    Fatigue,
    PastOffer,
    Reason,
    Shopper,
    Signal,
    decide,
    holdout_draw,
    matches,
    signal_of,
)

ALICE = Shopper("ps_alice", consented=True, tier=2)
OPEN = Fatigue(per_day=3, min_gap_s=0)


def run(
    sig: Signal,
    *campaigns: Campaign,
    shopper: Shopper = ALICE,
    history: list[PastOffer] | None = None,
    counts: dict[str, CampaignCounts] | None = None,
    fatigue: Fatigue = OPEN,
    now: datetime | None = None,
) -> list[Decision]:
    return decide(
        sig,
        shopper=shopper,
        campaigns=campaigns or (campaign(),),
        history=history or [],
        lifetime={},
        counts=counts or {},
        fatigue=fatigue,
        now=now or sig.decided_at,
        holdout_key=KEY,
    )


def reason(decisions: list[Decision]) -> Reason:
    assert len(decisions) == 1
    return decisions[0].reason


def test_a_matching_live_campaign_issues() -> None:
    assert run(signal()) == [Decision("c1", "issue", Reason.ISSUED, signal().occasion)]


def test_a_campaign_whose_trigger_does_not_match_is_not_considered() -> None:
    assert run(signal(zone="bakery")) == []


def test_consent_is_checked_before_anything_that_could_issue() -> None:
    withdrawn = Shopper("ps_alice", consented=False, tier=0)
    assert reason(run(signal(), shopper=withdrawn)) is Reason.NO_CONSENT
    daily = Shopper("pd_alice", consented=True, tier=2)  # a daily pseudonym is never personalized
    assert reason(run(signal(pseudonym="pd_alice"), shopper=daily)) is Reason.NO_CONSENT
    tier2 = Shopper("ps_alice", consented=True, tier=2)
    assert reason(run(signal(), campaign(audience={"min_tier": 3}), shopper=tier2)) is Reason.TIER_BELOW_MINIMUM


def test_segments_quiet_hours_and_window() -> None:
    assert reason(run(signal(), campaign(audience={"segments": ["wine"]}))) is Reason.NOT_IN_AUDIENCE
    wine = Shopper("ps_alice", consented=True, tier=2, segments=frozenset({"wine"}))
    assert reason(run(signal(), campaign(audience={"segments": ["wine"]}), shopper=wine)) is Reason.ISSUED
    quiet = campaign(quiet_hours=[{"start": "07:00", "end": "09:00"}])
    assert reason(run(signal(), quiet)) is Reason.QUIET_HOURS
    assert reason(run(signal(), campaign(status="paused"))) is Reason.NOT_LIVE
    late = T0 + timedelta(minutes=11)
    assert reason(run(signal(), now=late)) is Reason.STALE_TRIGGER


def test_caps_are_rolling_windows() -> None:
    yesterday = [PastOffer("c1", T0 - timedelta(hours=23))]
    assert reason(run(signal(), history=yesterday)) is Reason.CAP_DAY
    assert reason(run(signal(), history=[PastOffer("c1", T0 - timedelta(hours=24))])) is Reason.ISSUED
    week = campaign(caps={"per_day": 1, "per_week": 2})
    two = [PastOffer("c1", T0 - timedelta(days=d)) for d in (2, 5)]
    assert reason(run(signal(), week, history=two)) is Reason.CAP_WEEK
    once = campaign(caps={"per_day": None, "per_campaign": 1})
    decided = decide(signal(), shopper=ALICE, campaigns=[once], history=[], lifetime={"c1": 1}, counts={},
                     fatigue=Fatigue(), now=T0, holdout_key=KEY)  # fmt: skip
    assert reason(decided) is Reason.CAP_CAMPAIGN


def test_fatigue_spans_campaigns() -> None:
    others = [PastOffer(f"x{i}", T0 - timedelta(hours=i + 1)) for i in range(3)]
    assert reason(run(signal(), history=others)) is Reason.FATIGUE
    recent = [PastOffer("x", T0 - timedelta(minutes=5))]
    assert reason(run(signal(), history=recent, fatigue=Fatigue(per_day=3, min_gap_s=900))) is Reason.FATIGUE_GAP


def test_several_campaigns_on_one_trigger_respect_fatigue_and_priority() -> None:
    low, high = campaign("low", priority=0), campaign("high", priority=5)
    decisions = run(signal(), low, high, fatigue=Fatigue(per_day=1, min_gap_s=0))
    assert [(d.campaign_id, d.reason) for d in decisions] == [("high", Reason.ISSUED), ("low", Reason.FATIGUE)]


def test_budget() -> None:
    capped = campaign(budget={"max_issued": 5, "max_redemptions": 3})
    assert reason(run(signal(), capped, counts={"c1": CampaignCounts(issued=5)})) is Reason.BUDGET_ISSUED
    assert reason(run(signal(), capped, counts={"c1": CampaignCounts(4, 3)})) is Reason.BUDGET_REDEMPTIONS
    assert reason(run(signal(), capped, counts={"c1": CampaignCounts(4, 2)})) is Reason.ISSUED


def test_holdout_is_fixed_per_campaign_and_shopper() -> None:
    held = [f"ps_{i}" for i in range(2000) if holdout_draw(KEY, "c1", f"ps_{i}") < 0.25]
    assert 0.21 < len(held) / 2000 < 0.29
    half = campaign(holdout=0.25)
    for pseudonym in held[:20]:
        shopper = Shopper(pseudonym, consented=True, tier=2)
        for n in range(3):
            sig = signal(T0 + timedelta(days=n), pseudonym=pseudonym, n=n)
            assert reason(run(sig, half, shopper=shopper)) is Reason.HOLDOUT
    assert holdout_draw(KEY, "c1", "ps_a") != holdout_draw(KEY, "c2", "ps_a")
    assert holdout_draw(KEY, "c1", "ps_a") != holdout_draw(b"x" * 32, "c1", "ps_a")


def test_triggers_match_their_events() -> None:
    enter = signal(journey_start=True)
    assert matches(campaign(trigger={"kind": "enter_store"}).spec.trigger, enter)
    assert not matches(campaign(trigger={"kind": "enter_store"}).spec.trigger, signal())
    dwell = campaign(trigger={"kind": "dwell", "zone": "dairy", "dwell_s": 60}).spec.trigger
    assert matches(dwell, signal(type="presence.dwell_reached", dwell_s=120.0))
    assert not matches(dwell, signal(type="presence.dwell_reached", dwell_s=30.0))
    near = campaign(trigger={"kind": "near_beacon", "beacon": "ibeacon:x/1/2"}).spec.trigger
    assert matches(near, signal(type="presence.beacon_near", zone="", beacon="ibeacon:x/1/2"))
    assert matches(campaign(trigger={"kind": "exit_store"}).spec.trigger, signal(type="presence.journey_ended"))
    assert matches(campaign(trigger={"kind": "exit_zone", "zone": "dairy"}).spec.trigger,
                   signal(type="presence.zone_exited"))  # fmt: skip


def test_signal_of_reads_presence_payloads() -> None:
    at = datetime(2026, 11, 30, 8, tzinfo=UTC)
    payload = {"subject": "ps_a", "zone": "dairy", "at": at.isoformat(), "decided_at": at.isoformat(),
               "dwell_s": 120.0}  # fmt: skip
    dwell = signal_of("e1", "presence.dwell_reached", {**payload, "at": (at + timedelta(seconds=120)).isoformat()})
    assert dwell is not None and dwell.dwell_s == 120.0 and dwell.pseudonym == "ps_a"
    exited = signal_of("e2", "presence.zone_exited", {**payload, "entered_at": at.isoformat()})
    entered = signal_of("e3", "presence.zone_entered", payload)
    assert exited is not None and entered is not None and dwell is not None
    assert exited.occasion == entered.occasion == dwell.occasion  # one visit, one occasion
    assert signal_of("e4", "presence.zone_entered", {**payload, "subject": None, "entity": "device:x"}) is None
    assert signal_of("e5", "presence.sighting", payload) is None
