"""The privacy probe: realistic shoppers, what they plant where, and that every planted value is one the
privacy gate can take out (the unit-level twin of tests/e2e/test_breach_drill.py)."""

import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from tradeoff.core.events import EventIn
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.scrub import (
    find_emails,
    find_macs,
    find_pans,
    find_phones,
    find_stored_pans,
    is_pan,
    scrub,
    scrub_bytes,
)
from tradeoff.sim.base import EventDict, GeneratorContext
from tradeoff.sim.generators import build_generators
from tradeoff.sim.planted import PlantedValues
from tradeoff.sim.probe import PROBE, QUARANTINE_AT, UNKNOWN_TENANT, PrivacyProbe, attach_probe
from tradeoff.sim.probe_io import Enrollment
from tradeoff.sim.runner import Simulator
from tradeoff.sim.seed import Credentials
from tradeoff.sim.shoppers import BRANDS, TEST_PANS, grouped, luhn_check_digit, make_shoppers
from tradeoff.sim.world import demo_world

from .fakes import FakeTime, RecordingSender

START = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


class FakeOutlet:
    def __init__(self) -> None:
        self.enrolled: list[tuple[int, bool]] = []
        self.consent: list[tuple[str, int]] = []
        self.app: list[tuple[str, EventDict]] = []
        self.raw_http: list[bytes] = []
        self.raw_mqtt: list[tuple[tuple[str, str, str], bytes]] = []
        self.closed = False

    def enroll(self, *, tier: int, gpc: bool) -> Enrollment | None:
        self.enrolled.append((tier, gpc))
        n = len(self.enrolled)
        return Enrollment(subject_id=f"{n:032x}", app_token=f"ta_{n:012x}_{'s' * 43}")

    def change_consent(self, token: str, *, tier: int, gpc: bool) -> bool:
        self.consent.append((token, tier))
        return True

    def send_app_events(self, token: str, events: Sequence[EventDict], *, gpc: bool) -> list[str]:
        self.app += [(token, event) for event in events]
        return ["accepted"] * len(events)

    def send_raw_http(self, body: bytes, *, content_type: str) -> int | None:
        self.raw_http.append(body)
        return 422

    def send_raw_mqtt(self, topic: tuple[str, str, str], body: bytes) -> bool:
        self.raw_mqtt.append((topic, body))
        return True

    def close(self) -> None:
        self.closed = True


def probe(seed: int = 7) -> PrivacyProbe:
    return PrivacyProbe(GeneratorContext(world=demo_world(), start=START, seed=seed, run_id="run1"))


def drive(generator: PrivacyProbe, *, minutes: float, step_s: float) -> list[EventDict]:
    out: list[EventDict] = []
    now, end = START, START + timedelta(minutes=minutes)
    while now < end:
        nxt = min(end, now + timedelta(seconds=step_s))
        out += generator.tick(nxt, nxt - now)
        now = nxt
    return out


def attached(seed: int = 7) -> tuple[PrivacyProbe, FakeOutlet]:
    generator, outlet = probe(seed), FakeOutlet()
    generator.attach(outlet, planted_path=None)
    return generator, outlet


def test_shoppers_carry_realistic_values_of_every_kind() -> None:
    shoppers = make_shoppers(random.Random(1))
    assert make_shoppers(random.Random(1)) == shoppers
    assert len({s.name for s in shoppers}) == len({s.email for s in shoppers}) == len(shoppers) == 9
    assert {s.tier for s in shoppers} == {None, 0, 1, 2, 3} and any(s.gpc for s in shoppers)
    brands = {s.card.brand for s in shoppers}
    assert len(brands) >= 8, brands
    assert {s.card.pan for s in shoppers} & {pan for _, pan in TEST_PANS}  # published test numbers among them
    for shopper in shoppers:
        card = shopper.card
        assert is_pan(card.pan), card
        for written in (card.pan, card.spaced, card.dashed, f"paid with {card.spaced}, thanks"):
            assert find_pans(written) and find_stored_pans(written), written
        assert find_emails(shopper.email) == [shopper.email]
        assert find_phones(shopper.phone_intl) == [shopper.phone_intl]
        assert all(find_macs(mac) == [mac] for mac in shopper.macs)
        assert int(shopper.mac[:2], 16) & 0b10  # a phone's randomized, locally administered MAC
    assert grouped("378282246310005", (4, 6, 5), " ") == "3782 822463 10005"
    assert luhn_check_digit("411111111111111") == "1"
    assert {brand.name for brand in BRANDS} >= {"visa", "mastercard", "amex", "discover", "jcb", "diners"}


def test_silent_until_attached_so_running_every_generator_plants_nothing() -> None:
    ctx = GeneratorContext(world=demo_world(), start=START, seed=7, run_id="run1")
    assert PROBE in [g.name for g in build_generators(ctx)]
    generator = probe()
    assert drive(generator, minutes=10, step_s=30) == [] and generator.planted.count() == 0


def test_shoppers_register_consent_pay_and_break_things() -> None:
    generator, outlet = attached()
    events = drive(generator, minutes=10, step_s=5)
    shoppers = generator.shoppers
    assert sorted(outlet.enrolled) == sorted((s.tier, s.gpc) for s in shoppers if s.tier is not None)
    later = sorted(s.later_tier for s in shoppers if s.later_tier is not None)
    assert sorted(tier for _, tier in outlet.consent) == later
    assert {event["type"] for _, event in outlet.app} >= {
        "presence.entered", "presence.zone_enter", "offers.viewed", "coupons.clipped", "offers.feedback"
    }  # fmt: skip
    installs = {s.install_id for s in shoppers}
    assert all(event["event_id"].rsplit("-", 1)[0] in installs for _, event in outlet.app)  # as apps make ids
    types = {event["type"] for event in events}
    assert types == {"presence.sighting", "pos.transaction", "vending.sale", "pos.basket.linked"}
    devices = {d.external_id for d in demo_world().devices}
    broken = [e for e in events if e["event_id"].split("-")[-2] == "bad"]
    assert len(broken) == 2  # bad timestamps from a till and a machine: dead letters with card numbers
    for event in events:
        assert event["source"] in devices
        if event not in broken:
            EventIn.model_validate(event)
    linked = [e["payload"]["subject"] for e in events if e["type"] == "pos.basket.linked"]
    assert len(set(linked)) == len(outlet.enrolled)  # every app user's basket is offered for linking
    assert len(outlet.raw_http) == 1 and b"@" in outlet.raw_http[0]
    assert sorted(topic[0] for topic, _ in outlet.raw_mqtt) == sorted(["demo", UNKNOWN_TENANT])
    assert [e["occurred_at"] for _, e in outlet.app if e["occurred_at"].startswith("2026-02-30")]
    stats = generator.stats
    assert stats["enrolled"] == 7 and stats["consent_changes"] == 2
    assert all(stats[f"broken_{name}"] == 1 for name in QUARANTINE_AT), stats


def test_same_seed_same_probe_whatever_the_step() -> None:
    def key(seed: int, step_s: float) -> tuple[list[tuple[str, str, str]], dict[str, list[str]]]:
        generator, outlet = attached(seed)
        events = drive(generator, minutes=12, step_s=step_s) + [e for _, e in outlet.app]
        made = sorted((e["event_id"], e["occurred_at"], repr(e["payload"])) for e in events)
        return made, generator.planted.as_dict()

    assert key(7, 1) == key(7, 97)
    assert key(7, 5) != key(8, 5)


def sent_text(events: list[EventDict], outlet: FakeOutlet) -> str:
    payloads = [orjson.dumps(e).decode() for e in events] + [orjson.dumps(e).decode() for _, e in outlet.app]
    raw = [body.decode("latin-1") for body in outlet.raw_http + [b for _, b in outlet.raw_mqtt]]
    return "\n".join(payloads + raw)


def test_every_planted_value_was_sent_and_every_kind_is_planted() -> None:
    generator, outlet = attached()
    text = sent_text(drive(generator, minutes=10, step_s=5), outlet).lower()
    planted = generator.planted.as_dict()
    assert set(planted) >= {"pan", "track", "sad", "name", "email", "phone", "mac", "device_id", "card_fingerprint"}
    for kind, values in planted.items():
        for value in values:
            assert value.lower() in text, (kind, value)
    assert {shopper.card.pan for shopper in generator.shoppers} <= set(planted["pan"])
    assert len(planted["name"]) > len(generator.shoppers)  # as written in forms, on cards, in notes


def test_the_gate_takes_out_everything_the_probe_planted() -> None:
    """What the gate keeps of each input (scrubbed payloads; dead letters' raw bytes) holds no planted value."""
    generator, outlet = attached()
    events = drive(generator, minutes=10, step_s=5)
    kept: list[str] = []
    for event in events + [e for _, e in outlet.app]:
        bad = event["occurred_at"].startswith(("2026-11-31", "yesterday", "2026-02-30"))
        if bad:  # rejected by validation: kept raw in the dead-letter table, after scrub_raw
            with_subject = {**event, "payload": {**event["payload"], "subject": "0" * 32}}
            kept.append(PrivacyGate.scrub_raw(orjson.dumps(with_subject)).decode())
        else:
            kept.append(orjson.dumps(scrub(event["payload"]).value).decode())
    kept += [scrub_bytes(body).decode("latin-1") for body in outlet.raw_http + [b for _, b in outlet.raw_mqtt]]
    text = "\n".join(kept).lower()
    leaks = [(kind, v) for kind, values in generator.planted.as_dict().items() for v in values if v.lower() in text]
    assert leaks == []
    assert not find_stored_pans(text) and not find_emails(text) and not find_macs(text)


def test_planted_values_merge_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sim" / "planted.json"
    first, second = PlantedValues(), PlantedValues()
    first.add("email", "ann@example.org", "x")  # too short to be looked for: ignored
    assert first.save(path) and not first.save(path)  # nothing new the second time
    second.add("email", "bob@example.org")
    second.add("pan", "4111111111111111")
    assert second.save(path)
    assert json.loads(path.read_text()) == {
        "email": ["ann@example.org", "bob@example.org"],
        "pan": ["4111111111111111"],
    }


def test_attach_and_close_with_a_real_simulator(tmp_path: Path) -> None:
    from tradeoff.sim.clock import SimClock

    clock_time = FakeTime()
    clock = SimClock(start=START, speed=60, monotonic=clock_time.monotonic, sleep=clock_time.sleep)
    ctx = GeneratorContext(world=demo_world(), start=START, seed=3, run_id="r")
    sender = RecordingSender("http")
    simulator = Simulator(clock=clock, generators=build_generators(ctx, [PROBE]), senders={"http": sender})
    credentials = Credentials(tenant_id="t", tenant_slug="demo", admin_key=None, device_keys={})
    with pytest.raises(ValueError, match="needs an admin or device key"):
        attach_probe(simulator, credentials, base_url="http://127.0.0.1:9", planted_path=tmp_path / "p.json")
    empty = Simulator(clock=clock, generators=[], senders={"http": sender})
    assert attach_probe(empty, credentials, base_url="http://x", planted_path=tmp_path / "p.json") is None
    generator = simulator.generators[0]
    assert isinstance(generator, PrivacyProbe)
    outlet = FakeOutlet()
    generator.attach(outlet, planted_path=tmp_path / "p.json")
    generator.skip("mqtt_not_json")
    with pytest.raises(ValueError, match="unknown broken"):
        generator.skip("nope")
    simulator.run(duration=10)  # ten simulated minutes
    generator.close()
    assert outlet.closed and sender.events and len(outlet.raw_mqtt) == 1
    saved: dict[str, Any] = json.loads((tmp_path / "p.json").read_text())
    assert saved == generator.planted.as_dict()
