"""Fit per-column forecasts for a whole fleet at once: weekday profile x (ETS | TSB | shrunk mean).

Every column's history is divided by its weekday profile (its own, shrunk to its machine's), so the
models see a series without weekly pattern and without the structural zeros of closed weekdays. Then:

* regular      — ADI <= 1.32 with >= 14 observed days: ETS(A,N,N) (AutoETS, no season), batched;
* intermittent — ADI > 1.32: TSB (Teunter-Syntetos-Babai), batched;
* ``fallback`` — under 14 observed days: the mean, shrunk to a prior rate when one is given;
* ``prior``/``empty`` — no history at all.

The level is multiplied back by the weekday profile. See docs/vending-forecast.md for the reasoning.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import numpy as np

from tradeoff.vending.forecast.batch import run_models
from tradeoff.vending.forecast.history import (
    FLAT,
    Grid,
    History,
    dispersion,
    intervals,
    open_weekdays,
    outage_days,
    pooled_profile,
    shrunk_profile,
    to_grid,
    without,
)
from tradeoff.vending.forecast.model import ColumnForecast

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class FitSettings:
    """Knobs of the forecaster; the defaults are what docs/vending-forecast.md reports."""

    min_history_days: int = 14  # fewer observed days: fallback (no model fit)
    intermittent_adi: float = 1.32  # Syntetos-Boylan cut-off between smooth/erratic and intermittent/lumpy
    profile_strength: float = 40.0  # vends the machine's weekday profile is worth against a column's own
    prior_days: float = 7.0  # days a prior rate is worth in the fallback
    max_gap_days: int = 60  # longest forecast (history end to origin + horizon) we model; longer repeats
    level_days: int = 14  # days of history a fitted level is worth at most (its uncertainty)
    outage_expected: float = 5.0  # a machine-wide zero day is an outage when this many vends were expected
    prior_cv2: float = 0.5  # level uncertainty of a forecast from a prior rate alone
    regular_model: str = "ses"  # a batch.MODELS name: ETS(A,N,N); "ets" lets AutoETS pick trend/error too
    intermittent_model: str = "tsb"


@dataclass
class _Column:
    """A prepared column: its profile and the weekday-adjusted series of its open days."""

    grid: Grid | None
    profile: np.ndarray
    kind: str
    series: np.ndarray  # adjusted vends on open days, unknown days imputed
    phi: float = 1.0  # variance-to-mean ratio of a day's vends (1 = Poisson)
    level: float = 0.0  # adjusted vends per open day (the fallback's forecast)
    cv2: float = 0.0  # squared coefficient of variation of the level
    correction: float = 1.0  # model level x correction = unbiased level (see _prepare)


def fit_forecast(
    history: History,
    *,
    origin: datetime,
    horizon_days: int = 14,
    weekday_prior: Sequence[float] | None = None,
    prior_rate: float | None = None,
    settings: FitSettings | None = None,
) -> ColumnForecast:
    """One column's forecast; ``weekday_prior`` (7 weights, Monday first) is e.g. its machine's profile."""
    profiles = None if weekday_prior is None else {0: weekday_prior}
    priors = None if prior_rate is None else {0: prior_rate}
    return fit_forecasts(
        {0: history}, origin=origin, horizon_days=horizon_days, profiles=profiles, priors=priors, settings=settings
    )[0]


def fit_forecasts(
    histories: Mapping[K, History],
    *,
    origin: datetime,
    horizon_days: int = 14,
    groups: Mapping[K, Hashable] | None = None,
    profiles: Mapping[K, Sequence[float]] | None = None,
    priors: Mapping[K, float] | None = None,
    settings: FitSettings | None = None,
) -> dict[K, ColumnForecast]:
    """Forecasts from ``origin`` for many columns, batched per model.

    ``groups`` maps a column to its machine (columns of one machine pool their weekday profile);
    ``profiles`` gives a weekday prior per column directly; ``priors`` a prior daily rate (e.g. the
    product's fleet average) used when the history is short. Days on or after the origin's (UTC) day are
    ignored: planning knows today's sales through the stock, not through the forecast.
    """
    if origin.tzinfo is None:
        raise ValueError("origin must be timezone-aware")
    if horizon_days < 1:
        raise ValueError("horizon_days must be >= 1")
    cfg = settings or FitSettings()
    origin = origin.astimezone(UTC)
    today = origin.date()
    grids = {key: to_grid(history, before=today) for key, history in histories.items()}
    if groups is not None:
        grids = _drop_outages(grids, groups, cfg.outage_expected)
    sums = {key: grid.weekday_sums() for key, grid in grids.items() if grid is not None}
    group_priors = _group_profiles(sums, groups)
    columns: dict[K, _Column] = {}
    for key, grid in grids.items():
        if profiles is not None and key in profiles:
            prior_profile = _weekday_weights(profiles[key])
        elif groups is not None and key in groups:
            prior_profile = group_priors[groups[key]]
        else:
            prior_profile = np.asarray(FLAT)
        columns[key] = _prepare(grid, prior_profile, None if priors is None else priors.get(key), cfg)

    last_day = today + timedelta(days=horizon_days)  # one extra day: the origin may fall inside a day
    steps = {key: _open_steps(column, today, last_day, cfg) for key, column in columns.items()}
    batches: dict[str, list[K]] = {}
    for key, column in columns.items():
        if column.kind in ("ets", "tsb"):
            batches.setdefault(column.kind, []).append(key)
    levels: dict[K, np.ndarray] = {}
    for kind, keys in batches.items():
        model = cfg.regular_model if kind == "ets" else cfg.intermittent_model
        h = max(1, max(len(steps[key][1]) for key in keys))
        levels.update(run_models(model, {key: columns[key].series for key in keys}, h=h))

    fraction = (origin - datetime.combine(today, datetime.min.time(), UTC)) / timedelta(days=1)
    return {
        key: _assemble(columns[key], today, steps[key], levels.get(key), origin, fraction, horizon_days, cfg)
        for key in columns
    }


def _weekday_weights(weights: Sequence[float]) -> np.ndarray:
    values = np.asarray(weights, dtype=float)
    if values.shape != (7,) or not np.isfinite(values).all() or (values < 0).any() or values.sum() <= 0:
        raise ValueError("a weekday profile must be 7 non-negative weights (Monday first), not all zero")
    return np.asarray(values * 7 / values.sum(), dtype=float)


def _group_profiles(
    sums: Mapping[K, tuple[np.ndarray, np.ndarray]], groups: Mapping[K, Hashable] | None
) -> dict[Hashable, np.ndarray]:
    if groups is None:
        return {}
    members: dict[Hashable, list[tuple[np.ndarray, np.ndarray]]] = {}
    for key, group in groups.items():
        if key in sums:
            members.setdefault(group, []).append(sums[key])
    profiles = {group: pooled_profile(values) for group, values in members.items()}
    return {group: profiles.get(group, np.ones(7)) for group in set(groups.values())}


def _drop_outages(
    grids: dict[K, Grid | None], groups: Mapping[K, Hashable], min_expected: float
) -> dict[K, Grid | None]:
    members: dict[Hashable, list[K]] = {}
    for key, group in groups.items():
        if grids.get(key) is not None:
            members.setdefault(group, []).append(key)
    out = dict(grids)
    for keys in members.values():
        found = [grid for key in keys if (grid := grids[key]) is not None]
        days = outage_days(found, min_expected=min_expected)
        for key in keys:
            grid = grids[key]
            out[key] = None if grid is None else without(grid, days)
    return out


def _prepare(grid: Grid | None, prior_profile: np.ndarray, prior: float | None, cfg: FitSettings) -> _Column:
    if grid is None or grid.observed() == 0:
        rate = prior or 0.0
        kind = "empty" if prior is None else "prior"
        return _Column(None, prior_profile, kind, np.zeros(0), level=rate, cv2=cfg.prior_cv2 if rate else 0.0)
    vends, days = grid.weekday_sums()
    sold = grid.values[grid.values > 0]  # NaN compares False
    lumpy = intervals(grid.values)[0] > cfg.intermittent_adi
    size_ratio = max(1.0, float((sold**2).sum() / sold.sum())) if lumpy and len(sold) else 1.0
    # an intermittent item's units come in clumps: its pattern is worth its purchase occasions, not its units
    profile = shrunk_profile(vends, days, prior_profile, cfg.profile_strength * size_ratio)
    is_open = open_weekdays(profile, vends, days)
    profile = np.where(is_open, profile, 0.0)
    on_open = is_open[grid.weekdays()]
    raw = grid.values[on_open]
    adjusted = raw / profile[grid.weekdays()[on_open]]
    known = ~np.isnan(adjusted)
    observed = int(known.sum())
    weights = profile[grid.weekdays()[on_open]][known]
    recent = slice(-cfg.level_days * 2, None)
    mean = float(adjusted[known].mean()) if observed else 0.0
    # the models average y/p; sum(y)/sum(p) is the unbiased level when p does not fit y exactly
    ratio_level = float(raw[known][recent].sum() / weights[recent].sum()) if observed else 0.0
    recent_mean = float(adjusted[known][recent].mean()) if observed else 0.0
    correction = ratio_level / recent_mean if recent_mean > 0 else 1.0
    total = float(raw[known].sum() / weights.sum()) * observed if observed else 0.0
    series = np.where(known, adjusted, mean)
    nonzero = raw[known & (raw > 0)]
    adi, _ = intervals(raw)
    if observed < cfg.min_history_days or len(nonzero) < 2:
        kind = "fallback"
    else:
        kind = "tsb" if adi > cfg.intermittent_adi else "ets"
    if kind == "ets":
        phi = dispersion(adjusted[known])
    else:  # compound Poisson: E[S^2]/E[S] of the non-zero days
        phi = max(1.0, float((nonzero**2).mean() / nonzero.mean())) if len(nonzero) else 1.0
    weight_days = float(min(observed, cfg.level_days))
    level = total / observed if observed else 0.0
    if kind == "fallback":
        if prior is not None:
            level = (total + cfg.prior_days * prior) / (observed + cfg.prior_days)
            weight_days += cfg.prior_days
        elif total == 0:
            level = 0.5 / max(observed, 1)  # nothing sold yet means "rarely", not "never"
    cv2 = phi / max(0.5, level * weight_days) if level > 0 else 0.0
    return _Column(grid, profile, kind, series, phi, level, cv2, correction)


def _open_steps(column: _Column, today: date, last_day: date, cfg: FitSettings) -> tuple[list[date], list[date]]:
    """Calendar days from the history's end to ``last_day``, and those of them that are open (model steps)."""
    first = today
    if column.grid is not None:
        first = max(column.grid.last + timedelta(days=1), last_day - timedelta(days=cfg.max_gap_days))
    days = [first + timedelta(days=offset) for offset in range((last_day - first).days + 1)]
    return days, [day for day in days if column.profile[day.weekday()] > 0]


def _assemble(
    column: _Column,
    today: date,
    steps: tuple[list[date], list[date]],
    level: np.ndarray | None,
    origin: datetime,
    fraction: float,
    horizon_days: int,
    cfg: FitSettings,
) -> ColumnForecast:
    """Calendar-day means and variances, then shifted to days counted from the origin."""
    _, open_days = steps
    step_of = {day: index for index, day in enumerate(open_days)}
    means = []
    for offset in range(horizon_days + 1):
        day = today + timedelta(days=offset)
        index = step_of.get(day)
        if index is None:
            means.append(0.0)
            continue
        rate = column.level if level is None else max(0.0, float(level[min(index, len(level) - 1)]))
        rate *= 1.0 if level is None else column.correction
        means.append(rate * float(column.profile[day.weekday()]))
    shifted = [(1 - fraction) * means[i] + fraction * means[i + 1] for i in range(horizon_days)]
    variances = tuple(column.phi * mean + column.cv2 * mean * mean for mean in shifted)
    return ColumnForecast(origin, tuple(shifted), variances, _name(column, cfg), shared_cv2=column.cv2)


def _name(column: _Column, cfg: FitSettings) -> str:
    model = {"ets": cfg.regular_model, "tsb": cfg.intermittent_model}.get(column.kind, column.kind)
    return model if column.kind in ("empty", "prior") else f"{model}*weekday"
