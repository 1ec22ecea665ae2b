"""RSSI smoothing per (entity, receiver): a sliding-window percentile, then a 1-D Kalman filter or an EMA.

BLE RSSI has fast fading and channel hopping: single readings jump ±10 dB. Multipath mostly *weakens* a
reading, so a window percentile (median by default; ESPresense uses a higher, adaptive one) drops the
outliers first; the Kalman filter (or a time-aware EMA) then follows slow changes — a walk — smoothly.
Samples older than ``stale_after_s`` stop counting: a receiver that no longer hears someone must not keep
them in its zone (ghost presence). Pure and deterministic: time is passed in.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class SmoothingConfig:
    window_s: float = 3.0  # percentile window (Faragher & Harle: ~1 s at 10 Hz; gateways send 1–2 Hz)
    percentile: float = 50.0
    max_samples: int = 32
    method: Literal["kalman", "ema"] = "kalman"
    process_noise_db2_per_s: float = 2.0  # Kalman Q: how fast the true level may drift (walking)
    measurement_noise_db2: float = 16.0  # Kalman R: variance left after the percentile (σ ≈ 4 dB)
    ema_half_life_s: float = 2.0
    stale_after_s: float = 10.0  # unheard this long: the receiver drops out of the snapshot
    reset_after_s: float = 30.0  # a gap this long restarts the filter instead of bridging it

    def __post_init__(self) -> None:
        if not 0 <= self.percentile <= 100:
            raise ValueError("percentile must be in 0..100")
        if self.window_s < 0 or self.max_samples < 1 or self.stale_after_s <= 0:
            raise ValueError("window_s >= 0, max_samples >= 1 and stale_after_s > 0 are required")


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy for a handful of samples."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class RssiFilter:
    """One stream of readings (one entity heard by one receiver)."""

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        self.config = config or SmoothingConfig()
        self._window: deque[tuple[float, float]] = deque()
        self._level: float | None = None
        self._variance = 0.0
        self.last_at: float | None = None

    @property
    def value(self) -> float | None:
        return self._level

    def update(self, at: float, rssi: float) -> float:
        """Add a reading at ``at`` (seconds); returns the smoothed level. Late readings count in the window
        but do not move time backwards."""
        config = self.config
        now = at if self.last_at is None else max(at, self.last_at)
        if self.last_at is not None and now - self.last_at > config.reset_after_s:
            self._window.clear()
            self._level = None
        self._window.append((at, rssi))
        while len(self._window) > config.max_samples or (self._window and self._window[0][0] < now - config.window_s):
            self._window.popleft()
        robust = percentile([value for _, value in self._window] or [rssi], config.percentile)
        dt = 0.0 if self.last_at is None else now - self.last_at
        self.last_at = now
        if self._level is None:
            self._level, self._variance = robust, config.measurement_noise_db2
            return robust
        if config.method == "ema":
            alpha = 1.0 if config.ema_half_life_s <= 0 else 1 - 0.5 ** (dt / config.ema_half_life_s)
            self._level += alpha * (robust - self._level)
            return self._level
        predicted_variance = self._variance + config.process_noise_db2_per_s * max(dt, 0.0)
        gain = predicted_variance / (predicted_variance + config.measurement_noise_db2)
        self._level += gain * (robust - self._level)
        self._variance = (1 - gain) * predicted_variance
        return self._level

    def fresh(self, now: float) -> bool:
        return self.last_at is not None and now - self.last_at <= self.config.stale_after_s


class SmoothingBank:
    """Filters for many (entity, receiver) pairs; ``snapshot`` gives an entity's fresh smoothed levels."""

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        self.config = config or SmoothingConfig()
        self._filters: dict[str, dict[str, RssiFilter]] = {}

    def update(self, entity: str, receiver: str, at: datetime, rssi: float) -> float:
        filters = self._filters.setdefault(entity, {})
        stream = filters.get(receiver)
        if stream is None:
            stream = filters[receiver] = RssiFilter(self.config)
        return stream.update(at.timestamp(), rssi)

    def snapshot(self, entity: str, at: datetime) -> dict[str, float]:
        now = at.timestamp()
        return {
            receiver: stream.value
            for receiver, stream in sorted(self._filters.get(entity, {}).items())
            if stream.value is not None and stream.fresh(now)
        }

    def forget(self, entity: str) -> None:
        self._filters.pop(entity, None)

    def entities(self) -> list[str]:
        return sorted(self._filters)
