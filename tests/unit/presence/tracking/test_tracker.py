"""The zone state machine on scores: debounce, hysteresis, minimum stay, exit confirmation, exit timeout
(ghost presence), dwell marks, visits and journeys. Time is passed in; everything is deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradeoff.presence.tracking import (
    DwellReached,
    JourneyEnded,
    PresenceEvent,
    TrackerConfig,
    ZoneEntered,
    ZoneExited,
    ZoneTracker,
)

T0 = datetime(2026, 11, 29, 10, tzinfo=UTC)
CONFIG = TrackerConfig(dwell_marks_s=(30.0, 120.0), journey_gap_s=300)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(
    tracker: ZoneTracker, start: float, end: float, scores: dict[str, float], step: float = 1.0
) -> list[PresenceEvent]:
    out: list[PresenceEvent] = []
    t = start
    while t < end:
        out += tracker.observe("e", at(t), scores)
        t += step
    return out


def kinds(events: list[PresenceEvent]) -> list[tuple[str, str]]:
    return [(type(e).__name__, getattr(e, "zone", "")) for e in events]


def test_enter_needs_a_sustained_score_and_is_back_dated() -> None:
    tracker = ZoneTracker(CONFIG)
    assert feed(tracker, 0, 3, {"a": 0.9}) == []  # 3 s < enter_confirm_s
    assert feed(tracker, 3, 3.5, {"a": 0.1}) == []  # interrupted: the debounce restarts
    events = feed(tracker, 4, 9, {"a": 0.9})
    [entered] = events
    assert isinstance(entered, ZoneEntered)
    assert entered.at == at(4) and entered.decided_at == at(8)
    assert tracker.zone_of("e") == "a"


def test_hysteresis_keeps_the_zone_between_thresholds() -> None:
    tracker = ZoneTracker(CONFIG)
    feed(tracker, 0, 5, {"a": 0.9})
    assert feed(tracker, 5, 200, {"a": 0.4}, step=2) == [
        DwellReached("e", "a", at(30), at(31), 30.0),
        DwellReached("e", "a", at(120), at(121), 120.0),
    ]  # 0.4 is under the enter score but above the exit score: still in a
    assert tracker.zone_of("e") == "a"


def test_leaving_is_confirmed_and_dated_when_the_score_fell() -> None:
    tracker = ZoneTracker(CONFIG)
    feed(tracker, 0, 40, {"a": 0.9})
    events = feed(tracker, 40, 60, {"a": 0.1})
    [exited] = [e for e in events if isinstance(e, ZoneExited)]
    assert (exited.reason, exited.at, exited.decided_at, exited.entered_at) == ("left", at(40), at(50), at(0))
    assert exited.visit.dwell_s == 40.0


def test_switch_needs_margin_confirmation_and_minimum_stay() -> None:
    tracker = ZoneTracker(CONFIG)
    feed(tracker, 0, 5, {"a": 0.9})  # entered at 0, decided at 4
    events = feed(tracker, 5, 20, {"a": 0.5, "b": 0.9})  # b would win, but a was entered 16 s ago at most
    assert events == []
    events = feed(tracker, 20, 35, {"a": 0.5, "b": 0.9})
    assert kinds(events) == [("ZoneExited", "a"), ("ZoneEntered", "b")]
    exited, entered = events
    assert isinstance(exited, ZoneExited) and exited.reason == "switched"
    assert exited.at == entered.at == at(5)  # back-dated to when b started winning
    assert entered.decided_at == at(34)  # min stay (4 + 30) passed; b had won for ≥ 8 s
    assert feed(tracker, 35, 80, {"a": 0.85, "b": 0.8}) == [DwellReached("e", "b", at(35), at(35), 30.0)]  # no margin


def test_exit_timeout_ends_ghost_presence_at_the_last_sighting() -> None:
    tracker = ZoneTracker(CONFIG)
    feed(tracker, 0, 10, {"a": 0.9})
    assert tracker.tick(at(30)) == []  # 21 s of silence < exit_timeout_s
    [exited] = tracker.tick(at(45))
    assert isinstance(exited, ZoneExited)
    assert (exited.reason, exited.at, exited.decided_at) == ("timeout", at(9), at(45))
    assert tracker.zone_of("e") is None


def test_timeout_also_applies_when_the_next_sighting_comes_late() -> None:
    tracker = ZoneTracker(CONFIG)
    feed(tracker, 0, 10, {"a": 0.9})
    events = tracker.observe("e", at(100), {"a": 0.9})
    assert kinds(events) == [("ZoneExited", "a")]
    assert isinstance(events[0], ZoneExited) and events[0].at == at(9)


def test_dwell_marks_count_only_confirmed_presence() -> None:
    tracker = ZoneTracker(CONFIG)
    feed(tracker, 0, 20, {"a": 0.9})
    assert tracker.tick(at(40)) == []  # silent since 19: 30 s of dwell were never observed
    events = tracker.tick(at(60))
    assert kinds(events) == [("ZoneExited", "a")]


def test_journey_is_the_zone_sequence_with_dwell() -> None:
    tracker = ZoneTracker(CONFIG)
    feed(tracker, 0, 60, {"a": 0.9})
    feed(tracker, 60, 120, {"a": 0.3, "b": 0.9})
    feed(tracker, 120, 130, {})
    events = tracker.tick(at(200))
    events += tracker.tick(at(700))
    [journey] = [e for e in events if isinstance(e, JourneyEnded)]
    assert [zone for zone, _ in journey.zones] == ["a", "b"]
    assert journey.zones[0][1] == 60.0 and journey.started_at == at(0)
    assert journey.to_json()["steps"][1]["zone"] == "b"
    assert tracker.state("e") is None or tracker.state("e").visits == []  # type: ignore[union-attr]


def test_late_observations_are_counted_not_applied() -> None:
    tracker = ZoneTracker(CONFIG)
    feed(tracker, 0, 10, {"a": 0.9})
    assert tracker.observe("e", at(2), {"b": 1.0}) == []
    assert tracker.late_observations == 1


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        TrackerConfig(enter_score=0.3, exit_score=0.5)
    with pytest.raises(ValueError):
        TrackerConfig(dwell_marks_s=(60.0, 30.0))
