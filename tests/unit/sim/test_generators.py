import random
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from tradeoff.core.events import EventIn
from tradeoff.sim.base import EventDict, EventFactory, Every, GeneratorContext
from tradeoff.sim.generators import (
    GENERATOR_MODULES,
    GENERATORS,
    HEARTBEAT,
    TELEMETRY,
    HeartbeatGenerator,
    build_generators,
    register_generator,
)
from tradeoff.sim.models import poisson, traffic_rate
from tradeoff.sim.probe import PROBE
from tradeoff.sim.world import demo_world

START = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday, 16:00 in Berlin: the store is busy


ENVELOPE_GENERATORS = ["heartbeat", "telemetry", PROBE]


def context(seed: int = 7, run_id: str = "run1", start: datetime = START) -> GeneratorContext:
    return GeneratorContext(world=demo_world(), start=start, seed=seed, run_id=run_id)


def simulate(ctx: GeneratorContext, *, minutes: float, step_s: float) -> list[EventDict]:
    generators = build_generators(ctx, ENVELOPE_GENERATORS)  # others send vendor formats (tests of their own)
    out: list[EventDict] = []
    now, end = ctx.start, ctx.start + timedelta(minutes=minutes)
    while now < end:
        nxt = min(end, now + timedelta(seconds=step_s))
        for generator in generators:
            for event in generator.tick(nxt, nxt - now):
                assert datetime.fromisoformat(event["occurred_at"]) <= nxt
                out.append(event)
        now = nxt
    return out


def test_same_seed_same_events_other_seed_other_events() -> None:
    first = simulate(context(seed=7), minutes=10, step_s=5)
    again = simulate(context(seed=7), minutes=10, step_s=5)
    other = simulate(context(seed=8), minutes=10, step_s=5)
    assert first == again
    assert [e["payload"] for e in first] != [e["payload"] for e in other]


def test_results_do_not_depend_on_the_step_size() -> None:
    def key(events: Iterable[EventDict]) -> list[tuple[str, str, str]]:
        return sorted((e["event_id"], e["occurred_at"], repr(e["payload"])) for e in events)

    assert key(simulate(context(), minutes=15, step_s=1)) == key(simulate(context(), minutes=15, step_s=97))


def test_every_event_is_a_valid_envelope_with_a_unique_id() -> None:
    events = simulate(context(), minutes=30, step_s=10)
    devices = {d.external_id for d in demo_world().devices}
    for event in events:
        parsed = EventIn.model_validate(event)
        assert parsed.occurred_at.utcoffset() == timedelta(0)
        assert parsed.source in devices
        assert parsed.type in (HEARTBEAT, TELEMETRY)
        assert event["event_id"].startswith("run1-")
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids))
    assert {e["source"] for e in events if e["type"] == TELEMETRY} == devices  # every kind reports something


def test_heartbeat_cadence() -> None:
    ctx = context()
    generator = HeartbeatGenerator(ctx, interval=timedelta(seconds=30))
    events = list(generator.tick(START + timedelta(minutes=10), timedelta(minutes=10)))
    per_device = Counter(e["source"] for e in events)
    assert set(per_device) == {d.external_id for d in ctx.world.devices}
    assert all(19 <= n <= 21 for n in per_device.values()), per_device
    times = sorted(datetime.fromisoformat(e["occurred_at"]) for e in events if e["source"] == "vm-1")
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert all(28.5 - 0.01 <= gap <= 31.5 + 0.01 for gap in gaps), gaps
    assert times[0] <= START + timedelta(seconds=5)  # devices report soon after the simulation starts
    uptimes = [e["payload"]["uptime_s"] for e in events if e["source"] == "vm-1"]
    assert uptimes == sorted(uptimes) and uptimes[0] > 3600
    by_source = {e["source"]: e["payload"] for e in events}
    assert "battery_pct" in by_source["sensor-dairy"] and "battery_pct" not in by_source["pos-1"]
    assert "rssi_dbm" in by_source["vm-1"] and "rssi_dbm" not in by_source["pos-1"]


def test_telemetry_payloads_by_kind() -> None:
    events = simulate(context(), minutes=60, step_s=60)
    telemetry = [e for e in events if e["type"] == TELEMETRY]
    camera = [e["payload"] for e in telemetry if e["source"] == "cam-entrance"]
    assert len(camera) in (60, 61) and all({"in", "out", "window_s"} <= set(p) for p in camera)
    assert 60 < sum(p["in"] for p in camera) < 600  # ~5 shoppers a minute at the evening peak
    fridge = [e["payload"] for e in telemetry if e["source"] == "vm-1"]
    assert all(-5 < p["temperature_c"] < 22 and isinstance(p["door_open"], bool) for p in fridge)
    gateway = [e["payload"] for e in telemetry if e["source"] == "gw-produce"]
    assert all(0 <= p["cpu_pct"] <= 100 and p["queue_depth"] >= 0 for p in gateway)


def test_closed_store_counts_nobody() -> None:
    night = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 02:00 in Berlin
    events = simulate(context(start=night), minutes=30, step_s=60)
    counts = [e["payload"] for e in events if e["source"] == "cam-entrance" and e["type"] == TELEMETRY]
    assert counts and all(p["in"] == 0 and p["out"] == 0 for p in counts)


def test_traffic_curve_and_poisson() -> None:
    berlin = datetime(2026, 11, 27, 17, 30)  # naive local times are fine for the pure curve
    assert traffic_rate(berlin.replace(hour=3)) == 0
    assert traffic_rate(berlin.replace(hour=21, minute=30)) == 0
    assert (
        traffic_rate(berlin) > traffic_rate(berlin.replace(hour=12, minute=30)) > traffic_rate(berlin.replace(hour=9))
    )
    assert traffic_rate(berlin.replace(day=28)) > traffic_rate(berlin)  # Saturday
    rng = random.Random(1)
    draws = [poisson(rng, 4.0) for _ in range(4000)]
    assert 3.8 < sum(draws) / len(draws) < 4.2
    assert poisson(rng, 0) == 0 and poisson(rng, 500) > 400


def test_event_ids_stay_unique_and_within_the_limit() -> None:
    factory = EventFactory("r")
    ids = {factory.next_id("gw-1", "hb") for _ in range(1000)}
    assert len(ids) == 1000
    long = factory.make(type="device.heartbeat", source="x" * 128, occurred_at=START, payload={})
    assert len(long["event_id"]) <= 128
    EventIn.model_validate(long)


def test_cadence_with_jitter() -> None:
    every = Every(START, timedelta(seconds=10), rng=random.Random(3), jitter=0.1)
    due = every.due(START + timedelta(minutes=10))
    assert due[0] == START and 55 <= len(due) <= 67
    assert every.due(START + timedelta(minutes=10)) == []  # nothing is returned twice
    with pytest.raises(ValueError):
        Every(START, timedelta(0))


class Ping:
    name = "ping"

    def __init__(self, ctx: GeneratorContext) -> None:
        self.ctx = ctx

    def tick(self, now: datetime, elapsed: timedelta) -> Iterable[EventDict]:
        yield self.ctx.events.make(type="test.ping", source="vm-1", occurred_at=now, payload={})


def test_capabilities_plug_generators_in() -> None:
    register_generator("ping", Ping)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_generator("ping", Ping)
        generators = build_generators(context(), ["heartbeat", "ping"])
        assert [g.name for g in generators] == ["heartbeat", "ping"]
        assert "ping" in [g.name for g in build_generators(context())]
        with pytest.raises(ValueError, match="unknown generator"):
            build_generators(context(), ["nope"])
    finally:
        GENERATORS.pop("ping", None)


def test_generator_modules_are_imported_before_building() -> None:
    sys.modules.pop("tests.unit.sim.plugin", None)  # importing it is what registers the generator
    GENERATOR_MODULES.append("tests.unit.sim.plugin")
    try:
        assert "knock" in [g.name for g in build_generators(context())]
    finally:
        GENERATOR_MODULES.remove("tests.unit.sim.plugin")
        GENERATORS.pop("knock", None)
