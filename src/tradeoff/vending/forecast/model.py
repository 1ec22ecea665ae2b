"""A column's forecast as planning reads it: cumulative demand from an origin, with uncertainty."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist

DAY = timedelta(days=1)


@dataclass(frozen=True)
class ColumnForecast:
    """Expected vends per day from ``origin`` (day i covers [origin + i days, origin + (i+1) days)).

    ``daily_var`` is the variance of each day's vends; days are treated as independent, so the cumulative
    demand's variance is the sum. Past the horizon the last day repeats.
    """

    origin: datetime
    daily_mean: tuple[float, ...]
    daily_var: tuple[float, ...]
    model: str

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

    def demand_quantile_until(self, until: datetime, q: float) -> float:
        """A quantile of cumulative vends (normal approximation, never below zero)."""
        mean = self.demand_until(until)
        sd = math.sqrt(self._cumulative(self.daily_var, until))
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


def _normal_ppf(q: float) -> float:
    """Inverse standard normal CDF, clamped so q = 0 or 1 stays finite."""
    return NormalDist().inv_cdf(min(max(q, 1e-9), 1 - 1e-9))
