"""Pure models behind the generated numbers: store traffic over the day, counts, cooling physics."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime


def traffic_rate(local: datetime, *, open_hour: int = 8, close_hour: int = 21) -> float:
    """Expected shoppers entering per minute at local time ``local``.

    A base rate while open plus a lunch peak (~12:30) and a larger after-work peak (~17:30);
    Saturdays are busier, Sundays quieter. Closed hours give 0.
    """
    hour = local.hour + local.minute / 60 + local.second / 3600
    if not open_hour <= hour < close_hour:
        return 0.0
    lunch = 2.5 * math.exp(-(((hour - 12.5) / 1.1) ** 2) / 2)
    evening = 3.5 * math.exp(-(((hour - 17.5) / 1.4) ** 2) / 2)
    weekday_factor = {5: 1.3, 6: 0.6}.get(local.weekday(), 1.0)
    return (0.8 + lunch + evening) * weekday_factor


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass
class Cooler:
    """A refrigerated cabinet: the compressor pulls towards ``setpoint``, an open door towards ambient."""

    setpoint_c: float = 4.0
    ambient_c: float = 21.0
    temperature_c: float = 4.0
    time_constant_s: float = 900.0
    door_time_constant_s: float = 300.0
    noise_c: float = 0.05

    def step(self, rng: random.Random, seconds: float, *, door_open: bool) -> float:
        target, tau = (
            (self.ambient_c, self.door_time_constant_s)
            if door_open
            else (
                self.setpoint_c,
                self.time_constant_s,
            )
        )
        self.temperature_c = target + (self.temperature_c - target) * math.exp(-seconds / tau)
        self.temperature_c += rng.gauss(0, self.noise_c)
        return round(self.temperature_c, 2)


@dataclass
class Drift:
    """A mean-reverting random walk (Ornstein–Uhlenbeck-like) clamped to ``[low, high]``."""

    value: float
    mean: float
    low: float
    high: float
    reversion: float = 0.2
    volatility: float = 1.0

    def step(self, rng: random.Random) -> float:
        self.value += self.reversion * (self.mean - self.value) + rng.gauss(0, self.volatility)
        self.value = min(self.high, max(self.low, self.value))
        return self.value
