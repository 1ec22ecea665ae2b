"""Daily sales histories: the calendar grid, weekday profiles (pooled per machine), intermittency, gaps.

A history is a sequence of ``(day, vends)``. A day that is absent is *unknown*, not zero: the caller
writes a 0 for a day it knows had no sales. When an audit is missed, the vends between two audits are a
known total over several days; ``spread_delta`` divides it by the weekday profile so the days are
observed (smoothed) rather than unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

History = Sequence[tuple[date, float]]
FLAT: tuple[float, ...] = (1.0,) * 7
CLOSED_SHARE = 0.05  # a weekday selling under 5 % of the average day is treated as closed


@dataclass(frozen=True)
class Grid:
    """A history on consecutive calendar days from ``first``; NaN marks an unknown day."""

    first: date
    values: np.ndarray

    @property
    def last(self) -> date:
        return self.first + timedelta(days=len(self.values) - 1)

    def weekdays(self) -> np.ndarray:
        return (self.first.weekday() + np.arange(len(self.values))) % 7

    def observed(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.values)))

    def weekday_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Vends and observed days per weekday (Monday first)."""
        mask = ~np.isnan(self.values)
        weekdays = self.weekdays()[mask]
        return (
            np.bincount(weekdays, weights=self.values[mask], minlength=7),
            np.bincount(weekdays, minlength=7).astype(float),
        )


def to_grid(history: History, *, before: date) -> Grid | None:
    """The history's days before ``before`` on a calendar grid (duplicates add up); None when empty."""
    days: dict[date, float] = {}
    for day, vends in history:
        value = float(vends)
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"history: vends on {day} must be a finite number >= 0, got {vends!r}")
        if day < before:
            days[day] = days.get(day, 0.0) + round(value, 6)  # fractions come from spreading; dust is noise
    if not days:
        return None
    first = min(days)
    values = np.full((max(days) - first).days + 1, np.nan)
    for day, value in days.items():
        values[(day - first).days] = value
    return Grid(first, values)


def relative(means: np.ndarray) -> np.ndarray:
    """Weekday means scaled to an average of 1 over the week (flat when there is nothing)."""
    total = float(means.sum())
    return np.ones(7) if total <= 0 else means * 7 / total


def pooled_profile(sums: Iterable[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """A group's (e.g. a machine's) weekday profile: its columns' vends per weekday, pooled."""
    vends, days = np.zeros(7), np.zeros(7)
    for column_vends, column_days in sums:
        vends += column_vends
        days += column_days
    return relative(np.divide(vends, days, out=np.zeros(7), where=days > 0))


def shrunk_profile(vends: np.ndarray, days: np.ndarray, prior: np.ndarray, strength: float) -> np.ndarray:
    """A column's weekday profile, shrunk to ``prior`` (gamma-Poisson: the prior is worth ``strength`` vends).

    A fast mover's own pattern dominates; a slow item borrows the machine's, so a weekend-closed office
    keeps zero weekends even for a product that sells twice a month.
    """
    observed = days.sum()
    if observed == 0 or vends.sum() == 0:
        return prior.copy()
    mean = vends.sum() / observed
    pseudo_days = strength / 7 / mean  # per weekday, at the column's own mean rate
    return relative((vends + pseudo_days * mean * prior) / (days + pseudo_days))


def open_weekdays(profile: np.ndarray, vends: np.ndarray, days: np.ndarray, *, min_expected: float = 3.0) -> np.ndarray:
    """Weekdays that sell: the rest are structural zeros, left out of the model and forecast as 0.

    A weekday is closed when its profile share is tiny, or when the column never sold on it although
    its average day would have sold ``min_expected`` units over those days (chance of that < 5 %).
    """
    observed = days.sum()
    mean = vends.sum() / observed if observed else 0.0
    never = (vends == 0) & (mean * days >= min_expected)
    return np.asarray((profile >= CLOSED_SHARE) & ~never)


def intervals(values: np.ndarray) -> tuple[float, float]:
    """Average demand interval (ADI, in observed days) and CV² of the non-zero sizes (Syntetos-Boylan)."""
    known = values[~np.isnan(values)]
    nonzero = known[known > 0]
    if len(nonzero) == 0:
        return float("inf"), 0.0
    cv2 = float(nonzero.var() / nonzero.mean() ** 2) if len(nonzero) > 1 else 0.0
    return len(known) / len(nonzero), cv2


def spread_delta(
    start: date, end: date, total: float, profile: Sequence[float] | None = None
) -> list[tuple[date, float]]:
    """Spread ``total`` vends seen between two audits over the days [start, end) by the weekday profile."""
    if end <= start:
        raise ValueError(f"spread_delta: end {end} must be after start {start}")
    if total < 0:
        raise ValueError(f"spread_delta: total must be >= 0, got {total}")
    weights_by_day = np.asarray(profile if profile is not None else FLAT, dtype=float)
    if weights_by_day.shape != (7,) or (weights_by_day < 0).any():
        raise ValueError("spread_delta: profile must be 7 non-negative weekday weights, Monday first")
    days = [start + timedelta(days=offset) for offset in range((end - start).days)]
    weights = np.array([weights_by_day[day.weekday()] for day in days])
    if weights.sum() <= 0:
        weights = np.ones(len(days))
    shares = weights / weights.sum() * total
    return [(day, float(share)) for day, share in zip(days, shares, strict=True)]


def outage_days(grids: Sequence[Grid], *, min_expected: float = 5.0) -> set[date]:
    """Days a whole machine sold nothing although its columns together expect ``min_expected`` or more.

    Such a day is a closure or a breakdown (holiday, power cut, jammed coin mech), not a lack of demand:
    the forecast treats it as unknown rather than as zero sales.
    """
    grids = [grid for grid in grids if grid.observed()]
    if not grids:
        return set()
    profile = pooled_profile(grid.weekday_sums() for grid in grids)
    first = min(grid.first for grid in grids)
    span = max((grid.last - first).days for grid in grids) + 1
    matrix = np.full((len(grids), span), np.nan)
    for row, grid in enumerate(grids):
        offset = (grid.first - first).days
        matrix[row, offset : offset + len(grid.values)] = grid.values
    known = ~np.isnan(matrix)
    means = np.nanmean(matrix, axis=1)
    weekday = profile[(first.weekday() + np.arange(span)) % 7]
    expected = (known * means[:, None]).sum(axis=0) * weekday
    sold = np.where(known, matrix, 0.0).sum(axis=0)
    hits = np.flatnonzero((sold == 0) & (expected >= min_expected))
    return {first + timedelta(days=int(offset)) for offset in hits}


def without(grid: Grid, days: set[date]) -> Grid:
    """The grid with ``days`` marked unknown."""
    if not days:
        return grid
    values = grid.values.copy()
    for day in days:
        offset = (day - grid.first).days
        if 0 <= offset < len(values):
            values[offset] = np.nan
    return Grid(grid.first, values)


def dispersion(series: np.ndarray) -> float:
    """Variance-to-mean ratio of a level-free series, robust to outliers (MAD of day-to-day changes).

    Poisson sales give 1; footfall noise and multi-unit purchases give more. Never below 1.
    """
    if len(series) < 3:
        return 1.0
    mean = float(series.mean())
    if mean <= 0:
        return 1.0
    changes = np.diff(series)
    spread = 1.4826 * float(np.median(np.abs(changes - np.median(changes))))
    return max(1.0, spread**2 / 2 / mean)
