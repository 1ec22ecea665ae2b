"""A column's forecast as planning reads it: cumulative demand from an origin, with uncertainty."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from statistics import NormalDist

DAY = timedelta(days=1)


@dataclass(frozen=True)
class ColumnForecast:
    """Expected vends per day from ``origin`` (day i covers [origin + i days, origin + (i+1) days)).

    ``daily_var`` is the variance of each day's vends. Part of it, ``shared_cv2 * mean**2``, is the
    uncertainty of the fitted level, which is the same error on every day: it adds up across days
    (perfectly correlated) while the rest (sales noise) adds up as independent. Past the horizon the last
    day repeats.
    """

    origin: datetime
    daily_mean: tuple[float, ...]
    daily_var: tuple[float, ...]
    model: str
    shared_cv2: float = 0.0  # squared coefficient of variation of the level, common to all days

    def __post_init__(self) -> None:
        if not self.daily_mean or len(self.daily_mean) != len(self.daily_var):
            raise ValueError("daily_mean and daily_var must be non-empty and of equal length")
        if min(self.daily_mean) < 0 or min(self.daily_var) < 0 or self.shared_cv2 < 0:
            raise ValueError("forecast means, variances and shared_cv2 must be >= 0")

    def _cumulative(self, values: tuple[float, ...], until: datetime) -> float:
        days = max(0.0, (until - self.origin) / DAY)
        whole = int(days)
        total = 0.0
        for index in range(whole):
            total += values[min(index, len(values) - 1)]
        return total + (days - whole) * values[min(whole, len(values) - 1)]

    def demand_until(self, until: datetime) -> float:
        """Expected vends between the origin and ``until``."""
        return self._cumulative(self.daily_mean, until)

    def demand_var_until(self, until: datetime) -> float:
        """Variance of cumulative vends between the origin and ``until``."""
        mean = self.demand_until(until)
        if not self.shared_cv2:
            return self._cumulative(self.daily_var, until)
        return self._cumulative(self._noise_var, until) + self.shared_cv2 * mean * mean

    @cached_property
    def _noise_var(self) -> tuple[float, ...]:
        """Each day's variance without the shared level part: the part that adds up as independent."""
        cv2 = self.shared_cv2
        return tuple(max(0.0, v - cv2 * m * m) for v, m in zip(self.daily_var, self.daily_mean, strict=True))

    def demand_quantile_until(self, until: datetime, q: float) -> float:
        """A quantile of cumulative vends (normal approximation, never below zero)."""
        mean = self.demand_until(until)
        sd = math.sqrt(self.demand_var_until(until))
        return max(0.0, mean + _normal_ppf(q) * sd)

    def crossing_time(self, stock: float, level: float, q: float = 0.5, limit_days: int = 60) -> datetime | None:
        """When stock left (``stock`` minus the q-quantile of demand) first reaches ``level``; None if not in limit."""
        if stock <= level:
            return self.origin
        lo, hi = self.origin, self.origin + limit_days * DAY
        if stock - self.demand_quantile_until(hi, q) > level:
            return None
        for _ in range(40):  # bisection to well under a minute
            mid = lo + (hi - lo) / 2
            if stock - self.demand_quantile_until(mid, q) > level:
                lo = mid
            else:
                hi = mid
        return hi

    def stockout_time(self, stock: float, q: float = 0.5, limit_days: int = 60) -> datetime | None:
        """When ``stock`` runs out at the q-quantile of demand (q = 0.9: the early, cautious estimate)."""
        return self.crossing_time(stock, 0.0, q, limit_days)


def _normal_ppf(q: float) -> float:
    """Inverse standard normal CDF, clamped so q = 0 or 1 stays finite."""
    return NormalDist().inv_cdf(min(max(q, 1e-9), 1 - 1e-9))
