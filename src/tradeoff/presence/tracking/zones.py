"""Zone estimation: smoothed RSSI per receiver → a score per zone in [0, 1].

``ZoneEstimator`` is the plug: the path-loss model here, or a fingerprint model (kNN/RF class
probabilities from the fingerprint engineer's module) — anything that maps ``{receiver: dBm}`` to
``{zone: score}``. The tracker applies hysteresis to the scores; estimators stay memoryless.

``PathLossZones``: log-distance model, RSSI(d) = P₁ₘ − 10·n·log₁₀(d). A receiver (a gateway, or a beacon
when the phone is the listener) belongs to a zone and says "inside" when the entity is within
``radius_m``: the score is a logistic of the margin in dB over the RSSI expected at that radius, so noise
in dB (roughly Gaussian) maps to a smooth score. A zone's score is its best receiver's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class ZoneEstimator(Protocol):
    def scores(self, rssi: Mapping[str, float]) -> dict[str, float]:
        """Score per zone in [0, 1] (zones absent score 0) from smoothed dBm per receiver key."""
        ...


def distance_m(rssi: float, measured_power: float, exponent: float) -> float:
    """Log-distance model inverted: d = 10^((P₁ₘ − RSSI) / (10·n))."""
    return float(10 ** ((measured_power - rssi) / (10 * exponent)))


def rssi_at(distance: float, measured_power: float, exponent: float) -> float:
    return measured_power - 10 * exponent * math.log10(max(distance, 1e-3))


@dataclass(frozen=True, slots=True)
class Receiver:
    zone: str
    measured_power: float = -59.0  # dBm at 1 m (iBeacon's byte, ESPresense rssi@1m, Eddystone tx − 41)
    exponent: float = 3.0  # indoors 2.7–4.3; ESPresense's default absorption is 3.5
    radius_m: float = 3.0
    softness_db: float = 3.0  # logistic width: ±3 dB around the radius moves the score 0.27 → 0.73

    def score(self, rssi: float) -> float:
        margin = rssi - rssi_at(self.radius_m, self.measured_power, self.exponent)
        return 1.0 / (1.0 + math.exp(-margin / self.softness_db))


@dataclass(slots=True)
class PathLossZones:
    """``receivers``: receiver key → its zone and calibration. With ``rooms_as_zones`` a receiver not
    listed is its own zone with ``default`` calibration (ESPresense rooms, room-assistant instances)."""

    receivers: Mapping[str, Receiver] = field(default_factory=dict)
    rooms_as_zones: bool = False
    default: Receiver = field(default_factory=lambda: Receiver(zone=""))

    def scores(self, rssi: Mapping[str, float]) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, level in rssi.items():
            receiver = self.receivers.get(key)
            if receiver is None:
                if not self.rooms_as_zones:
                    continue
                receiver = Receiver(
                    key, self.default.measured_power, self.default.exponent, self.default.radius_m,
                    self.default.softness_db,
                )  # fmt: skip
            score = receiver.score(level)
            if score > out.get(receiver.zone, 0.0):
                out[receiver.zone] = score
        return out


def best_zone(scores: Mapping[str, float]) -> tuple[str | None, float]:
    """The highest-scoring zone (ties: the smaller name, so the result is deterministic)."""
    if not scores:
        return None, 0.0
    zone = min(scores, key=lambda name: (-scores[name], name))
    return zone, scores[zone]
