"""Stochastic demand of a simulated vending fleet: seeded, reproducible, with the shapes real fleets show.

Used by the simulator (individual vend timestamps for DEX counters), the forecast backtest and the fleet
benchmark (daily counts). Every machine sits at a site type with opening hours, a weekday profile and an
intraday profile; every column sells one product at its own popularity:

* ``fast`` and ``medium`` movers: Poisson purchases (one unit each) at a weekday-shaped rate;
* ``intermittent`` items: rare purchase occasions (Poisson) of a few units each (geometric size), i.e. a
  compound Poisson with many zero days.

A machine's columns share its *day factor*: closures (public holidays, works, school holidays) and a
gamma-distributed footfall noise. The factor depends only on the machine's seed and the day, so it is the
same whoever asks and in whatever window order, while the purchases themselves come from the caller's rng.
Local time is taken as UTC: a site's opening hours are hours of the UTC day.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Literal

import numpy as np

DemandClass = Literal["fast", "medium", "intermittent"]
DEMAND_CLASSES: tuple[DemandClass, ...] = ("fast", "medium", "intermittent")
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class SiteProfile:
    """What a site type does to demand: which days and hours it is open, and when people buy."""

    kind: str
    weekday: tuple[float, ...]  # Monday..Sunday multipliers; 0 = closed that weekday
    open_hour: int
    close_hour: int  # exclusive; 24 = open until midnight
    peaks: tuple[float, ...]  # hours (UTC) around which purchases cluster
    closure_rate: float  # chance an open day is closed (holiday, works, outage)
    holiday_week_rate: float = 0.0  # chance a whole ISO week is closed (school holidays)

    @cached_property
    def hourly_weights(self) -> tuple[float, ...]:
        """Share of a day's purchases per hour: a flat base plus bumps at the peaks, zero when closed."""
        weights = []
        for hour in range(24):
            if not self.open_hour <= hour < self.close_hour:
                weights.append(0.0)
                continue
            centre = hour + 0.5
            weights.append(0.3 + sum(math.exp(-0.5 * ((centre - peak) / 1.2) ** 2) for peak in self.peaks))
        total = sum(weights)
        return tuple(weight / total for weight in weights)


SITES: dict[str, SiteProfile] = {
    "office": SiteProfile("office", (1.05, 1.1, 1.1, 1.05, 0.8, 0.0, 0.0), 7, 19, (10.0, 12.5, 15.5), 0.02),
    "school": SiteProfile("school", (1.0, 1.05, 1.0, 1.05, 0.9, 0.0, 0.0), 7, 17, (10.0, 12.5), 0.01, 0.08),
    "gym": SiteProfile("gym", (1.1, 1.05, 1.0, 1.05, 0.85, 1.0, 0.9), 6, 23, (7.5, 18.5, 20.0), 0.01),
    "hospital": SiteProfile("hospital", (1.05, 1.05, 1.05, 1.05, 1.0, 0.9, 0.85), 0, 24, (9.0, 14.0, 20.0), 0.0),
    "factory": SiteProfile("factory", (1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.0), 0, 24, (6.0, 10.0, 14.0, 22.0), 0.015),
    "transit": SiteProfile("transit", (1.1, 1.1, 1.1, 1.1, 1.2, 0.8, 0.6), 5, 24, (8.0, 17.5), 0.0),
}
SITE_MIX: dict[str, float] = {
    "office": 0.35,
    "school": 0.1,
    "gym": 0.15,
    "hospital": 0.15,
    "factory": 0.1,
    "transit": 0.15,
}

PRODUCTS: dict[DemandClass, tuple[str, ...]] = {
    "fast": ("cola-330", "water-500", "coffee-cup", "chocolate-bar", "crisps-salted", "energy-250"),
    "medium": ("juice-orange", "cereal-bar", "crisps-paprika", "iced-tea", "gum-mint", "nuts-mix", "cookies"),
    "intermittent": ("sandwich", "protein-shake", "salad-bowl", "batteries", "umbrella", "phone-cable", "tissues"),
}


@lru_cache(maxsize=1 << 16)
def day_factor(seed: int, site: SiteProfile, day: date) -> float:
    """The machine's multiplier for ``day``: 0 when closed, else gamma footfall noise (mean 1, CV ~0.15)."""
    if site.weekday[day.weekday()] == 0.0:
        return 0.0
    year, week, _ = day.isocalendar()
    if site.holiday_week_rate and random.Random(f"{seed}:{year}:{week}").random() < site.holiday_week_rate:
        return 0.0
    rng = random.Random(f"{seed}:{day.toordinal()}")
    if rng.random() < site.closure_rate:
        return 0.0
    shape = 1 / 0.15**2
    return rng.gammavariate(shape, 1 / shape)


@dataclass(frozen=True)
class ColumnDemand:
    """One column's demand: ``rate(day)`` is the true expected vends; samples come from the caller's rng."""

    machine_id: str
    selection: str
    product: str
    demand_class: DemandClass
    base_rate: float  # expected vends on an open day with weekday multiplier 1, at ``start``
    mean_size: float  # units per purchase occasion (1 = plain Poisson)
    trend_per_week: float  # multiplicative drift, e.g. 0.01 = +1 % a week
    site: SiteProfile
    start: date
    noise_seed: int  # the machine's: its columns share closures and footfall

    def expected_rate(self, day: date) -> float:
        """Weekday- and trend-shaped rate, before closures and footfall noise (what a perfect model learns)."""
        weeks = (day - self.start).days / 7
        return self.base_rate * self.site.weekday[day.weekday()] * float((1 + self.trend_per_week) ** weeks)

    def rate(self, day: date) -> float:
        """Expected vends on ``day`` given the machine's day factor (0 when closed)."""
        return self.expected_rate(day) * day_factor(self.noise_seed, self.site, day)

    def daily_counts(self, days: Sequence[date], rng: np.random.Generator) -> np.ndarray:
        """Vends per day (int array): Poisson occasions, each of geometric size with mean ``mean_size``."""
        occasions = rng.poisson([self.rate(day) / self.mean_size for day in days])
        return self._units(occasions, rng)

    def _units(self, occasions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.mean_size <= 1.0:
            return occasions.astype(np.int64)
        # the sum of n geometric(p) sizes (support >= 1) is n + NegBin(n, p) failures
        extra = rng.negative_binomial(np.maximum(occasions, 1), 1 / self.mean_size)
        return (occasions + np.where(occasions > 0, extra, 0)).astype(np.int64)

    def hourly_rates(self, day: date) -> np.ndarray:
        """Expected vends in each UTC hour of ``day``."""
        return self.rate(day) * np.asarray(self.site.hourly_weights)

    def sample_vends(self, start: datetime, end: datetime, rng: np.random.Generator) -> list[datetime]:
        """Timestamps (UTC, sorted, one per unit) of vends in [start, end); windows may be any length."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        stamps: list[datetime] = []
        day = start.date()
        while day <= end.date() and datetime.combine(day, datetime.min.time(), UTC) < end:
            midnight = datetime.combine(day, datetime.min.time(), UTC)
            rates = self.hourly_rates(day) / self.mean_size
            for hour in np.flatnonzero(rates):
                lo = max(start, midnight + int(hour) * HOUR)
                hi = min(end, midnight + (int(hour) + 1) * HOUR)
                if hi <= lo:
                    continue
                seconds = (hi - lo).total_seconds()
                occasions = int(rng.poisson(rates[hour] * seconds / 3600))
                if occasions == 0:
                    continue
                sizes = self._units(np.ones(occasions, dtype=np.int64), rng)
                for offset, size in zip(rng.uniform(0, seconds, occasions), sizes, strict=True):
                    stamps.extend([lo + timedelta(seconds=float(offset))] * int(size))
            day += timedelta(days=1)
        return sorted(stamps)


@dataclass(frozen=True)
class MachineDemand:
    machine_id: str
    site: SiteProfile
    columns: tuple[ColumnDemand, ...]


@dataclass(frozen=True)
class FleetDemand:
    """A seeded fleet: the same seed and arguments always give the same machines, columns and day factors."""

    seed: int
    start: date
    machines: tuple[MachineDemand, ...] = field(default=())

    @classmethod
    def generate(
        cls,
        seed: int,
        machines: int,
        columns_per_machine: int,
        start: date,
        *,
        class_mix: tuple[float, float, float] = (0.35, 0.35, 0.3),
        trend_share: float = 0.3,
    ) -> FleetDemand:
        """Draw a fleet: site types by ``SITE_MIX``, traffic per machine, demand class per column by ``class_mix``."""
        rng = np.random.default_rng(seed)
        kinds = list(SITE_MIX)
        built = []
        for index in range(machines):
            site = SITES[kinds[rng.choice(len(kinds), p=list(SITE_MIX.values()))]]
            traffic = float(rng.lognormal(0.0, 0.35))
            machine_id = f"M{index + 1:04d}"
            noise_seed = int(rng.integers(2**31))
            columns = []
            for slot in range(columns_per_machine):
                demand_class: DemandClass = DEMAND_CLASSES[rng.choice(3, p=list(class_mix))]
                product = str(rng.choice(PRODUCTS[demand_class]))
                if demand_class == "fast":
                    base, size = float(rng.uniform(4.0, 12.0)), 1.0
                elif demand_class == "medium":
                    base, size = float(rng.uniform(1.0, 3.5)), 1.0
                else:
                    size = float(rng.uniform(1.2, 2.5))
                    base = float(rng.uniform(0.08, 0.4)) * size  # occasions per day times units per occasion
                trend = float(rng.uniform(-0.02, 0.02)) if rng.random() < trend_share else 0.0
                columns.append(
                    ColumnDemand(
                        machine_id=machine_id,
                        selection=f"{10 + slot // 8}{slot % 8}",
                        product=product,
                        demand_class=demand_class,
                        base_rate=base * traffic,
                        mean_size=size,
                        trend_per_week=trend,
                        site=site,
                        start=start,
                        noise_seed=noise_seed,
                    )
                )
            built.append(MachineDemand(machine_id, site, tuple(columns)))
        return cls(seed=seed, start=start, machines=tuple(built))

    def columns(self) -> list[ColumnDemand]:
        return [column for machine in self.machines for column in machine.columns]
