import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.sim.fakes import FakeTime
from tradeoff.sim.clock import SimClock, parse_start

START = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def test_accelerated_time_runs_speed_times_faster() -> None:
    fake = FakeTime()
    clock = SimClock(start=START, speed=60, monotonic=fake.monotonic, sleep=fake.sleep)
    assert clock.now() == START
    fake.t += 1.0
    assert clock.now() == START + timedelta(minutes=1)
    fake.t += 0.25
    assert clock.now() == START + timedelta(seconds=75)
    assert clock.now().tzinfo is not None and clock.now().utcoffset() == timedelta(0)
    assert clock.sim_delta(2.0) == timedelta(minutes=2)
    assert not clock.real_time


def test_sleep_until_waits_the_real_time_that_maps_to_the_target() -> None:
    fake = FakeTime()
    clock = SimClock(start=START, speed=60, monotonic=fake.monotonic, sleep=fake.sleep)
    target = START + timedelta(minutes=2)
    assert clock.real_seconds_until(target) == pytest.approx(2.0)
    assert clock.sleep_until(target)
    assert fake.slept == [pytest.approx(2.0)]
    assert clock.now() == target
    assert clock.sleep_until(START)  # the past: no sleep at all
    assert len(fake.slept) == 1


def test_real_time_clock_follows_the_wall_clock() -> None:
    fake = FakeTime()
    clock = SimClock(speed=1, monotonic=fake.monotonic, sleep=fake.sleep)
    assert clock.real_time
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5
    clock.sleep_until(clock.now() + timedelta(seconds=3))
    assert fake.slept == [pytest.approx(3.0)]


def test_sleep_until_returns_early_when_interrupted() -> None:
    clock = SimClock(start=START, speed=1)
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert clock.sleep_until(START + timedelta(hours=1), interrupt=stop) is False


def test_invalid_clocks_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        SimClock(start=START, speed=0)
    with pytest.raises(ValueError, match="timezone"):
        SimClock(start=datetime(2026, 1, 1), speed=1)


def test_parse_start() -> None:
    assert parse_start(None) is None
    assert parse_start("now") is None
    assert parse_start("2026-11-28T08:00:00Z") == START
    assert parse_start("2026-11-28T09:00:00+01:00") == START
    with pytest.raises(ValueError):
        parse_start("2026-11-28T08:00:00")  # no zone
