"""The store-visitors generator, pure: arrivals follow the traffic curve, the tier mix holds, gateway
messages are real ESPresense the platform's decoder reads, RSSI is stronger in the gateway's zone, app
users post valid reports, and a seed reproduces everything whatever the step size or throttling."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from tradeoff.presence.app_reports import AppReport
from tradeoff.presence.gateways import decode_at
from tradeoff.presence.sim import (
    NAME,
    AppUser,
    StoreVisitors,
    VisitorConfig,
    colon,
    demo_beacons,
    plan_path,
    position,
    random_mac,
)
from tradeoff.sim.base import EventDict, GeneratorContext
from tradeoff.sim.generators import GENERATORS, build_generators, register_generator
from tradeoff.sim.probe_io import Enrollment
from tradeoff.sim.world import STORE_PLAN, demo_world

START = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # a Friday, 17:00 in Berlin: the after-work peak
NIGHT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def generator(config: VisitorConfig | None = None, *, seed: int = 7, start: datetime = START) -> StoreVisitors:
    ctx = GeneratorContext(world=demo_world(), start=start, seed=seed, run_id="run1")
    return StoreVisitors(ctx, config)


def run(gen: StoreVisitors, *, minutes: float, step_s: float) -> list[EventDict]:
    out: list[EventDict] = []
    now, end = gen.ctx.start, gen.ctx.start + timedelta(minutes=minutes)
    while now < end:
        nxt = min(end, now + timedelta(seconds=step_s))
        out.extend(gen.tick(nxt, nxt - now))
        now = nxt
    return out


class FakeOutlet:
    def __init__(self) -> None:
        self.enrolled: list[int] = []
        self.reports: list[tuple[str, dict[str, Any]]] = []

    def enroll(self, *, tier: int) -> Enrollment | None:
        self.enrolled.append(tier)
        n = len(self.enrolled)
        return Enrollment(subject_id=f"sub_{n}", app_token=f"ta_{n}")

    def post_report(self, token: str, report: dict[str, Any]) -> dict[str, Any] | None:
        self.reports.append((token, report))
        return {"accepted": len(report["sightings"]), "dropped": 0}

    def close(self) -> None:
        pass


def test_registered_and_built_by_name() -> None:
    if NAME not in GENERATORS:  # another test module took it out (see the fixture above)
        register_generator(NAME, StoreVisitors)
    assert GENERATORS[NAME] is StoreVisitors
    ctx = GeneratorContext(world=demo_world(), start=START, seed=1, run_id="r")
    (built,) = build_generators(ctx, [NAME])
    assert isinstance(built, StoreVisitors) and len(built.gateways) == 7 and len(built.beacons) == 7


def test_paths_go_through_entrance_zones_checkout_and_out() -> None:
    import random

    rng = random.Random(3)
    for _ in range(50):
        legs = plan_path(rng, STORE_PLAN, VisitorConfig())
        assert legs[0].origin == legs[-1].to  # in and out through the door
        stops = [STORE_PLAN.zone_at(leg.to) for leg in legs if leg.origin == leg.to]
        names = [zone.name for zone in stops if zone is not None]
        assert names[0] == "entrance" and names[-2:] == ["checkout", "entrance"]
        assert 2 <= len(set(names) - {"entrance", "checkout"}) <= 4
        assert all(b.start == a.end for a, b in zip(legs, legs[1:], strict=False))
        assert position(legs, legs[-1].end + 10) == legs[-1].to
        assert 3 * 60 < legs[-1].end < 60 * 60


def test_arrivals_follow_the_traffic_curve_and_closed_hours() -> None:
    gen = generator(VisitorConfig(prefill=False))
    run(gen, minutes=30, step_s=60)
    expected = sum(gen.rate_per_s(START + timedelta(seconds=s)) * 2 for s in range(0, 1800, 2))
    assert abs(gen.stats["arrivals"] - expected) < 4 * math.sqrt(expected)
    night = generator(start=NIGHT)  # closed: nobody comes, gateways only hear the beacons every 10 s
    quiet = sightings(run(night, minutes=20, step_s=60))
    assert "arrivals" not in night.stats and {s.identity.kind for s in quiet} == {"ibeacon"}
    assert len(quiet) <= 7 * 7 * (20 * 6 + 1)


def test_prefill_starts_with_shoppers_inside() -> None:
    gen = generator()
    run(gen, minutes=0.1, step_s=6)
    assert 15 < len(gen.inside) < 70
    assert not generator(VisitorConfig(prefill=False)).inside


def test_tier_mix_is_respected() -> None:
    gen = generator(VisitorConfig(max_in_store=3000, prefill=False))
    for _ in range(2500):
        gen._arrive(START, START)
    tiers = Counter(shopper["tier"] for shopper in gen.truth.shoppers.values())
    total = sum(tiers.values())
    assert total > 1000
    for tier, share in VisitorConfig().mix:
        assert abs(tiers[tier] / total - share) < 0.04, (tier, tiers)
    assert all(u.tier in (0, 1, 2, 3) for u in gen.app_users)


def sightings(events: list[EventDict]) -> list[Any]:
    out = []
    for event in events:
        assert event["format"] == "espresense" and event["source"].startswith("gw-")
        out.extend(decode_at("espresense", event["body"], source=event["source"], received_at=START))
    return out


def test_bodies_are_espresense_the_decoder_reads() -> None:
    gen = generator()
    events = run(gen, minutes=5, step_s=10)
    assert events and len(events) <= 7 * (150 + 1)
    parsed = sightings(events)
    assert len(parsed) == gen.stats["readings"]
    kinds = Counter(s.identity.kind for s in parsed)
    assert kinds["ibeacon"] > 0 and kinds["device"] > 0 and set(kinds) == {"ibeacon", "device"}
    assert {s.identity.device_class for s in parsed if s.identity.anonymous} == {"mac", "apple"}
    assert {s.room for s in parsed} == {zone.name for zone in STORE_PLAN.zones}
    assert all(-100 <= (s.rssi or 0) <= -20 for s in parsed)
    item = orjson.loads(events[0]["body"])[0]
    assert set(item) == {"topic", "payload"} and item["topic"].startswith("espresense/devices/")
    assert {"mac", "id", "rssi@1m", "rssi", "rxAdj", "int"} <= set(item["payload"])
    planted = set(gen.planted.as_dict()["mac"])
    assert all(s.identity.id in planted for s in parsed if s.identity.anonymous)  # only the shoppers' MACs


def test_rssi_is_stronger_in_the_gateways_zone() -> None:
    gen = generator()
    owner = {}
    same: list[float] = []
    other: list[float] = []
    now = START
    for _ in range(300):  # 10 minutes, one scan per tick so each message's time is known
        now += timedelta(seconds=2)
        for event in gen.tick(now, timedelta(seconds=2)):
            zone = gen.ctx.world.device(event["source"]).zone
            for item in orjson.loads(event["body"]):
                mac = item["payload"]["mac"]
                if mac.startswith("c0ffee"):
                    continue
                if mac not in owner:
                    owner = {m: key for key, s in gen.truth.shoppers.items() for m in s["macs"]}
                where = gen.truth.zone_of(owner[mac], now)
                (same if where == zone else other).append(item["payload"]["rssi"])
    assert len(same) > 200 and len(other) > 200
    assert sum(same) / len(same) > sum(other) / len(other) + 5


def test_macs_rotate_and_look_like_private_addresses() -> None:
    import random

    rng = random.Random(1)
    for _ in range(100):
        mac = random_mac(rng)
        assert len(mac) == 12 and int(mac[:2], 16) >> 6 == 0b01
    assert colon("4a0102030405") == "4a:01:02:03:04:05"
    gen = generator(VisitorConfig(mac_rotation_s=120))
    run(gen, minutes=20, step_s=30)
    assert max(len(s["macs"]) for s in gen.truth.shoppers.values()) >= 3


def test_ground_truth_covers_every_visit() -> None:
    gen = generator(VisitorConfig(prefill=False))
    run(gen, minutes=40, step_s=30)
    doc = gen.truth.to_json()
    left = [key for key, s in doc["shoppers"].items() if "left" in s]
    assert len(left) == gen.stats["exits"] > 0
    for key in left:
        visits = [v for v in gen.truth.visits if v.shopper == key]
        assert visits[0].zone == "entrance" and visits[-1].zone == "entrance"
        assert "checkout" in {v.zone for v in visits}
        assert all(v.left is not None and v.entered < v.left for v in visits)
        assert all(a.left == b.entered for a, b in zip(visits, visits[1:], strict=False))
    first = gen.truth.visits[0]
    assert gen.truth.zone_of(first.shopper, first.entered) == first.zone


def test_same_seed_same_everything_whatever_the_step() -> None:
    config = VisitorConfig(max_messages_per_step=10_000)
    fine, coarse = generator(config), generator(config)
    a, b = run(fine, minutes=10, step_s=2), run(coarse, minutes=10, step_s=47)
    assert [(e["event_id"], e["body"]) for e in a] == [(e["event_id"], e["body"]) for e in b]
    assert fine.truth.to_json() == coarse.truth.to_json()
    other = run(generator(config, seed=8), minutes=10, step_s=2)
    assert [e["body"] for e in other] != [e["body"] for e in a]


def test_throttling_bounds_messages_but_not_the_people() -> None:
    free, capped = generator(VisitorConfig(max_messages_per_step=10_000)), generator()
    run(free, minutes=10, step_s=2)
    per_step = [len(list(capped.tick(START + timedelta(minutes=m), timedelta(minutes=5)))) for m in (5, 10)]
    assert all(n <= 70 for n in per_step) and capped.stats["throttled_scans"] > 0
    assert capped.truth.to_json() == free.truth.to_json()


def test_app_users_report_beacons_through_the_outlet() -> None:
    gen = generator()
    outlet = FakeOutlet()
    gen.attach(outlet)
    run(gen, minutes=20, step_s=6)
    assert outlet.reports and len(outlet.enrolled) == len({u.key for u in gen.app_users if u.enrollment})
    assert set(outlet.enrolled) <= {0, 1, 2, 3}
    ids = [report["report_id"] for _, report in outlet.reports]
    assert len(ids) == len(set(ids))
    for _, report in outlet.reports:
        parsed = AppReport.model_validate(report)
        assert {(s.kind, s.uuid) for s in parsed.sightings} == {("ibeacon", demo_beacons(STORE_PLAN)[0].uuid)}
    subjects = {s.get("subject_id") for s in gen.truth.shoppers.values() if s["tier"] is not None}
    assert subjects - {None}
    assert all(s.get("subject_id") is None for s in gen.truth.shoppers.values() if s["tier"] is None)
    assert gen.stats["app_sightings_accepted"] == sum(len(r["sightings"]) for _, r in outlet.reports)


def test_reports_over_the_cap_wait_and_grow() -> None:
    gen = generator(VisitorConfig(max_reports_per_step=2))
    outlet = FakeOutlet()
    gen.attach(outlet)
    run(gen, minutes=10, step_s=60)
    assert gen.stats["app_reports_deferred"] > 0
    assert max(len(r["sightings"]) for _, r in outlet.reports) > 3 * 7  # more than one report's worth


def test_silent_without_an_outlet() -> None:
    gen = generator()
    run(gen, minutes=5, step_s=30)
    assert gen.stats["app_reports_unsent"] > 0 and "app_reports" not in gen.stats


@pytest.mark.parametrize("tier", [0, 1, 2, 3])
def test_returning_app_users_are_reused(tier: int) -> None:
    gen = generator()
    first = gen._app_user(tier)
    first.inside = False
    assert gen._app_user(tier) is first
    assert isinstance(gen._app_user(tier), AppUser) and len(gen.app_users) == 2
