"""Smoothing: percentile window drops fading outliers, Kalman/EMA follow a real change, stale receivers
drop out, long gaps restart the filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tradeoff.presence.tracking import RssiFilter, SmoothingBank, SmoothingConfig
from tradeoff.presence.tracking.smoothing import percentile

T0 = datetime(2026, 11, 29, 10, tzinfo=UTC)


def test_percentile_matches_numpy() -> None:
    values = [-80.0, -70.0, -75.0, -90.0, -60.0]
    for q in (0, 25, 50, 75, 90, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


@pytest.mark.parametrize("method", ["kalman", "ema"])
def test_outliers_are_absorbed_and_steps_followed(method: str) -> None:
    stream = RssiFilter(SmoothingConfig(method=method))  # type: ignore[arg-type]
    rng = np.random.default_rng(7)
    values = []
    for i in range(60):
        reading = -70 + rng.normal(0, 2) - (25 if i % 7 == 3 else 0)  # a deep fade now and then
        values.append(stream.update(float(i), reading))
    assert abs(values[-1] + 70) < 3
    assert min(values[10:]) > -78  # a single 25 dB fade never drags the level far
    for i in range(60, 90):
        level = stream.update(float(i), -55 + rng.normal(0, 2))  # walked up to the receiver
    assert abs(level + 55) < 3


def test_raw_noise_is_reduced() -> None:
    rng = np.random.default_rng(3)
    stream = RssiFilter()
    raw = -72 + rng.normal(0, 6, 400)
    smoothed = np.array([stream.update(i * 0.5, float(r)) for i, r in enumerate(raw)])
    assert smoothed[40:].std() < raw.std() / 2


def test_stale_receivers_leave_the_snapshot_and_gaps_restart() -> None:
    bank = SmoothingBank(SmoothingConfig(stale_after_s=10, reset_after_s=30))
    bank.update("e", "gw-a", T0, -60)
    bank.update("e", "gw-b", T0 + timedelta(seconds=5), -80)
    assert bank.snapshot("e", T0 + timedelta(seconds=6)) == {"gw-a": -60, "gw-b": -80}
    assert bank.snapshot("e", T0 + timedelta(seconds=12)) == {"gw-b": -80}
    assert bank.update("e", "gw-a", T0 + timedelta(seconds=100), -90) == -90  # not bridged from -60
    bank.forget("e")
    assert bank.snapshot("e", T0) == {} and bank.entities() == []


def test_late_reading_does_not_move_time_back() -> None:
    stream = RssiFilter()
    stream.update(10.0, -70)
    stream.update(9.0, -72)
    assert stream.last_at == 10.0


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        SmoothingConfig(percentile=120)
