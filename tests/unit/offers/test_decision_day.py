"""A simulated day (and a half) of triggers, checked against every promise the engine makes (property tests):
per-shopper caps in every rolling window, the global fatigue cap, quiet hours, the issue budget, a
holdout group that never mixes with the treated one, nothing for a tier below the campaign's minimum or
for a shopper who withdrew, and never two coupons for one redelivered occasion.

The harness does what ``OffersProcessor`` does between decisions: skip occasions already decided,
append issues and holdouts to the shopper's history, count issues against the budget."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.offers.factories import KEY, T0, campaign, signal
from tradeoff.offers.campaigns import Campaign
from tradeoff.offers.decision import DAY, WEEK, CampaignCounts, Fatigue, PastOffer, Shopper, decide

ZONES = ("dairy", "wine", "bakery")


@dataclass(frozen=True)
class Person:
    pseudonym: str
    tier: int
    withdraws_at: datetime | None  # consent withdrawn from then on

    def at(self, now: datetime) -> Shopper:
        withdrawn = self.withdraws_at is not None and now >= self.withdraws_at
        tier = 0 if withdrawn else self.tier
        return Shopper(self.pseudonym, consented=tier >= 2, tier=tier)


caps = st.builds(
    lambda d, w, c: {"per_day": d, "per_week": None if w is None else max(w, d or 1), "per_campaign": c},
    st.one_of(st.none(), st.integers(1, 3)), st.one_of(st.none(), st.integers(1, 5)),
    st.one_of(st.none(), st.integers(5, 8)),
)  # fmt: skip
quiet = st.lists(
    st.tuples(st.integers(0, 23), st.integers(0, 23))
    .filter(lambda p: p[0] != p[1])
    .map(lambda p: {"start": f"{p[0]:02d}:00", "end": f"{p[1]:02d}:00"}),
    max_size=2,
)


@st.composite
def campaigns(draw: Any) -> list[Campaign]:
    out = []
    for index in range(draw(st.integers(1, 3))):
        zone = draw(st.sampled_from(ZONES))
        out.append(
            campaign(
                f"c{index}",
                trigger={"kind": "enter_zone", "zone": zone},
                audience={"min_tier": draw(st.sampled_from([2, 3]))},
                caps=draw(caps),
                quiet_hours=draw(quiet),
                budget={"max_issued": draw(st.one_of(st.none(), st.integers(1, 15)))},
                holdout=draw(st.sampled_from([0.0, 0.1, 0.5])),
                priority=draw(st.integers(-2, 2)),
                timezone=draw(st.sampled_from(["UTC", "Europe/Paris", "America/New_York"])),
            )
        )
    return out


@st.composite
def people(draw: Any) -> list[Person]:
    out = []
    for index in range(draw(st.integers(1, 6))):
        withdraw = draw(st.one_of(st.none(), st.integers(0, 36 * 60)))
        at = None if withdraw is None else T0 + timedelta(minutes=withdraw)
        out.append(Person(f"ps_p{index}", draw(st.integers(0, 3)), at))
    return out


triggers = st.lists(
    st.tuples(st.integers(0, 36 * 60), st.integers(0, 5), st.sampled_from(ZONES), st.booleans()),
    min_size=1, max_size=120,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    campaign_list=campaigns(),
    crowd=people(),
    moments=triggers,
    fatigue=st.builds(Fatigue, st.integers(1, 4), st.sampled_from([0.0, 600.0, 3600.0])),
)
def test_a_simulated_day_keeps_every_promise(
    campaign_list: list[Campaign], crowd: list[Person], moments: list[tuple[int, int, str, bool]], fatigue: Fatigue
) -> None:
    by_id = {c.id: c for c in campaign_list}
    history: dict[str, list[PastOffer]] = defaultdict(list)
    outcomes: dict[tuple[str, str], set[str]] = defaultdict(set)
    decided: set[tuple[str, str, str]] = set()
    issued: dict[str, int] = defaultdict(int)
    issued_occasions: list[tuple[str, str, str]] = []
    for n, (minute, who, zone, redeliver) in enumerate(sorted(moments)):
        person = crowd[who % len(crowd)]
        now = T0 + timedelta(minutes=minute)
        sig = signal(now, zone=zone, pseudonym=person.pseudonym, n=n)
        for repeat in range(2 if redeliver else 1):  # a redelivered trigger: the same occasion again
            pending = [c for c in campaign_list if (c.id, person.pseudonym, sig.occasion) not in decided]
            lifetime: dict[str, int] = defaultdict(int)
            for past in history[person.pseudonym]:
                lifetime[past.campaign_id] += 1
            shopper = person.at(now)
            decisions = decide(
                sig, shopper=shopper, campaigns=pending, history=history[person.pseudonym], lifetime=lifetime,
                counts={cid: CampaignCounts(issued=count) for cid, count in issued.items()}, fatigue=fatigue,
                now=now, holdout_key=KEY,
            )  # fmt: skip
            for decision in decisions:
                if decision.outcome == "skip":
                    continue
                spec = by_id[decision.campaign_id].spec
                # nothing for a tier below the minimum or a withdrawn shopper
                assert shopper.consented and shopper.tier >= spec.audience.min_tier
                assert person.withdraws_at is None or now < person.withdraws_at
                assert not spec.quiet_at(now), "issued during quiet hours"
                decided.add((decision.campaign_id, person.pseudonym, decision.occasion))
                history[person.pseudonym].append(PastOffer(decision.campaign_id, now))
                outcomes[(decision.campaign_id, person.pseudonym)].add(decision.outcome)
                if decision.outcome == "issue":
                    issued[decision.campaign_id] += 1
                    issued_occasions.append((decision.campaign_id, person.pseudonym, decision.occasion))
            taken = [d for d in decisions if d.outcome != "skip"]
            assert repeat == 0 or not taken, "a redelivered occasion was issued or held out again"
    assert len(issued_occasions) == len(set(issued_occasions)), "two coupons for one occasion"
    for campaign_id, count in issued.items():
        budget = by_id[campaign_id].spec.budget.max_issued
        assert budget is None or count <= budget
    for group in outcomes.values():
        assert len(group) == 1, "a shopper was both held out and treated by one campaign"
    for offers in history.values():
        times = sorted(offer.at for offer in offers)
        for i, at in enumerate(times):
            window = [t for t in times[: i + 1] if at - DAY < t]
            assert len(window) <= fatigue.per_day
            if i:
                assert (at - times[i - 1]).total_seconds() >= fatigue.min_gap_s
        for c in campaign_list:
            mine = sorted(offer.at for offer in offers if offer.campaign_id == c.id)
            limits = c.spec.caps
            assert limits.per_campaign is None or len(mine) <= limits.per_campaign
            for i, at in enumerate(mine):
                if limits.per_day is not None:
                    assert sum(1 for t in mine[: i + 1] if at - DAY < t) <= limits.per_day
                if limits.per_week is not None:
                    assert sum(1 for t in mine[: i + 1] if at - WEEK < t) <= limits.per_week
