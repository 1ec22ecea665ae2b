"""The complaints of the research notes, end to end (sightings → smoothing → path-loss zones → tracker):
a shopper standing at a zone boundary with noisy RSSI makes no enter/exit storm; a walk from one zone to
the next is one switch; silence ends presence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeoff.presence.gateways.sighting import Identity, Sighting
from tradeoff.presence.tracking import (
    LiveTracker,
    PathLossZones,
    PresenceEvent,
    Receiver,
    TrackerConfig,
    ZoneEntered,
    ZoneExited,
)
from tradeoff.presence.tracking.zones import rssi_at

T0 = datetime(2026, 11, 29, 10, tzinfo=UTC)
ZONES = PathLossZones({"gw-a": Receiver("a"), "gw-b": Receiver("b")})
BOUNDARY = rssi_at(3.0, -59, 3.0)  # both gateways 3 m away: both zone scores 0.5
PHONE = Identity("device", "tokd_mac_x", "mac")


def sighting(gateway: str, seconds: float, rssi: float) -> Sighting:
    return Sighting("espresense", gateway, PHONE, T0 + timedelta(seconds=seconds), rssi=rssi)


def changes_per_minute(events: list[PresenceEvent]) -> int:
    """The most zone entries decided within any 60 s."""
    times = [e.decided_at for e in events if isinstance(e, ZoneEntered)]
    return max((sum(1 for t in times if s <= t < s + timedelta(seconds=60)) for s in times), default=0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sigma=st.floats(2.0, 8.0),
    offset=st.floats(-3.0, 3.0),
    fades=st.floats(0.0, 0.2),
    rate_hz=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_noisy_boundary_never_storms(seed: int, sigma: float, offset: float, fades: float, rate_hz: float) -> None:
    """Gaussian fading of σ 2–8 dB, deep fades up to 20 % of readings, ±3 dB off the exact boundary:
    at most two zone entries in any minute (in practice: the first entry and perhaps one switch)."""
    rng = np.random.default_rng(seed)
    tracker = LiveTracker(ZONES)
    events: list[PresenceEvent] = []
    steps = int(180 * rate_hz)
    for i in range(steps):
        t = i / rate_hz
        for gateway, mean, lag in (("gw-a", BOUNDARY + offset / 2, 0.0), ("gw-b", BOUNDARY - offset / 2, 0.1)):
            reading = mean + rng.normal(0, sigma) - (rng.uniform(5, 20) if rng.random() < fades else 0.0)
            events += tracker.observe(sighting(gateway, t + lag, float(reading)))
    assert changes_per_minute(events) <= 2
    assert sum(isinstance(e, ZoneEntered) for e in events) <= 5  # over three minutes


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-100, -40), st.floats(-100, -40)), min_size=60, max_size=240))
def test_any_readings_respect_the_minimum_stay(readings: list[tuple[float, float]]) -> None:
    """Whatever the readings (adversarial, not noise), zone entries are min_stay_s apart: at most
    ⌈60 / min_stay_s⌉ = 2 per minute with the defaults."""
    config = TrackerConfig()
    tracker = LiveTracker(ZONES, config=config)
    events: list[PresenceEvent] = []
    for i, (a, b) in enumerate(readings):
        events += tracker.observe(sighting("gw-a", i, a))
        events += tracker.observe(sighting("gw-b", i + 0.5, b))
    entries = [e.decided_at for e in events if isinstance(e, ZoneEntered)]
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(entries, entries[1:], strict=False)]
    assert all(gap >= config.min_stay_s for gap in gaps)
    assert changes_per_minute(events) <= 2


def test_a_walk_from_a_to_b_is_one_switch() -> None:
    tracker = LiveTracker(ZONES)
    rng = np.random.default_rng(1)
    events: list[PresenceEvent] = []
    for i in range(120):
        distance_a = 1.0 + 8.0 * min(max((i - 40) / 40, 0), 1)  # stands near a, walks 40–80 s, stands near b
        distance_b = 9.0 - 8.0 * min(max((i - 40) / 40, 0), 1)
        events += tracker.observe(sighting("gw-a", i, rssi_at(distance_a, -59, 3.0) + float(rng.normal(0, 4))))
        events += tracker.observe(sighting("gw-b", i + 0.5, rssi_at(distance_b, -59, 3.0) + float(rng.normal(0, 4))))
    transitions = [(type(e).__name__, e.zone) for e in events if isinstance(e, ZoneEntered | ZoneExited)]
    assert transitions == [("ZoneEntered", "a"), ("ZoneExited", "a"), ("ZoneEntered", "b")]
    exited = next(e for e in events if isinstance(e, ZoneExited))
    assert exited.reason in ("left", "switched")  # the 10 m between the gateways is in neither zone
    assert T0 + timedelta(seconds=40) <= exited.at <= T0 + timedelta(seconds=75)  # dated during the walk


def test_silence_ends_presence_through_tick() -> None:
    tracker = LiveTracker(ZONES)
    for i in range(20):
        tracker.observe(sighting("gw-a", i, -60.0))
    assert tracker.zones.zone_of(PHONE.key) == "a"
    events = tracker.tick(T0 + timedelta(seconds=60))
    [exited] = [e for e in events if isinstance(e, ZoneExited)]
    assert exited.reason == "timeout" and exited.at == T0 + timedelta(seconds=19)


def test_app_sightings_track_the_subject_with_beacons_as_landmarks() -> None:
    beacons = PathLossZones({"ibeacon:426c7565-4368-6172-6d42-6561636f6e73/3838/4949": Receiver("entrance")})
    tracker = LiveTracker(beacons)
    beacon = Identity("ibeacon", "426c7565-4368-6172-6d42-6561636f6e73/3838/4949")
    events: list[PresenceEvent] = []
    for i in range(10):
        at = T0 + timedelta(seconds=i)
        events += tracker.observe(Sighting("app", "app", beacon, at, rssi=-62.0, subject="pd_abc"))
    assert [(e.entity, e.zone) for e in events if isinstance(e, ZoneEntered)] == [("subject:pd_abc", "entrance")]
    assert tracker.observe(Sighting("app", "app", beacon, T0, rssi=None)) == []
