"""Rolling-origin backtest on a simulated fleet: our forecasts against seasonal naive (same weekday last week).

Weekly origins after a warm-up, a horizon of ``horizon_days``; every column is refitted at every origin on
all history so far (expanding window). Metrics per true demand class and overall: daily MAE/RMSE/bias,
MAE of the horizon's cumulative demand (what planning uses), and how often the 90 % intervals (daily and
cumulative) cover the actual. An oracle that knows each column's true weekday-and-trend rate (but not the
closures or footfall noise) shows how much is left to gain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from tradeoff.vending.demand import DEMAND_CLASSES, FleetDemand
from tradeoff.vending.forecast.fit import FitSettings, fit_forecasts
from tradeoff.vending.forecast.model import ColumnForecast

DAY = timedelta(days=1)


@dataclass(frozen=True)
class ClassScore:
    """Scores of one demand class (or all columns); MAE ratios below 1 mean we beat seasonal naive."""

    forecasts: int  # column-origin pairs scored
    mean_daily_vends: float
    mae: float
    rmse: float
    bias: float
    naive_mae: float
    naive_rmse: float
    oracle_mae: float
    cum_mae: float
    naive_cum_mae: float
    oracle_cum_mae: float
    coverage90: float  # daily 90 % interval
    cum_coverage90: float  # cumulative-demand 90 % interval

    @property
    def mae_ratio(self) -> float:
        return self.mae / self.naive_mae if self.naive_mae else float("nan")

    @property
    def cum_mae_ratio(self) -> float:
        return self.cum_mae / self.naive_cum_mae if self.naive_cum_mae else float("nan")


@dataclass(frozen=True)
class BacktestReport:
    machines: int
    columns: int
    weeks: int
    seed: int
    horizon_days: int
    origins: int
    fit_seconds: float  # total time spent fitting (all origins)
    models: dict[str, int]  # how often each model was chosen
    classes: dict[str, ClassScore] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        for name, score in self.classes.items():
            ratios = {"mae_ratio": round(score.mae_ratio, 4), "cum_mae_ratio": round(score.cum_mae_ratio, 4)}
            out["classes"][name] |= ratios
        return out


def run_backtest(
    *,
    machines: int = 20,
    weeks: int = 10,
    seed: int = 1,
    columns_per_machine: int = 30,
    warmup_weeks: int = 4,
    horizon_days: int = 7,
    start: date = date(2026, 1, 5),
    settings: FitSettings | None = None,
    on_origin: Callable[[int, int], None] | None = None,
) -> BacktestReport:
    """Simulate the fleet, forecast at every weekly origin after the warm-up, score against the actuals.

    ``on_origin(done, total)`` is called after each origin (for a progress bar).
    """
    if weeks * 7 < warmup_weeks * 7 + horizon_days:
        raise ValueError(f"weeks ({weeks}) must leave a {horizon_days}-day horizon after the warm-up ({warmup_weeks})")
    if machines < 1 or columns_per_machine < 1:
        raise ValueError("machines and columns_per_machine must be >= 1")
    fleet = FleetDemand.generate(seed, machines, columns_per_machine, start)
    columns = fleet.columns()
    total_days = weeks * 7
    days = [start + offset * DAY for offset in range(total_days)]
    rng = np.random.default_rng(seed + 1)
    actual = np.array([column.daily_counts(days, rng) for column in columns], dtype=float)
    oracle = np.array([[column.expected_rate(day) for day in days] for column in columns])
    groups = {index: column.machine_id for index, column in enumerate(columns)}

    rows: dict[str, list[np.ndarray]] = {}
    models: dict[str, int] = {}
    fit_seconds = 0.0
    origins = range(warmup_weeks * 7, total_days - horizon_days + 1, 7)
    for done, cut in enumerate(origins, start=1):
        origin = datetime.combine(days[cut], datetime.min.time(), UTC)
        histories = {index: list(zip(days[:cut], actual[index, :cut].tolist(), strict=True)) for index in groups}
        began = time.perf_counter()
        forecasts = fit_forecasts(histories, origin=origin, horizon_days=horizon_days, groups=groups, settings=settings)
        fit_seconds += time.perf_counter() - began
        for index, column in enumerate(columns):
            forecast = forecasts[index]
            models[forecast.model] = models.get(forecast.model, 0) + 1
            window = slice(cut, cut + horizon_days)
            naive = actual[index, [cut + offset - 7 * (1 + offset // 7) for offset in range(horizon_days)]]
            rows.setdefault(column.demand_class, []).append(
                _score_row(forecast, actual[index, window], naive, oracle[index, window], horizon_days)
            )
        if on_origin is not None:
            on_origin(done, len(origins))
    classes: dict[str, ClassScore] = {name: _summarise(rows[name]) for name in DEMAND_CLASSES if name in rows}
    classes["all"] = _summarise([row for name in rows for row in rows[name]])
    return BacktestReport(machines, len(columns), weeks, seed, horizon_days, len(origins), fit_seconds, models, classes)


def _score_row(
    forecast: ColumnForecast, actual: np.ndarray, naive: np.ndarray, oracle: np.ndarray, horizon: int
) -> np.ndarray:
    """Per column-origin: errors summed over the horizon's days, and the cumulative errors."""
    mean = np.asarray(forecast.daily_mean[:horizon])
    sd = np.sqrt(np.asarray(forecast.daily_var[:horizon]))
    covered = (actual >= np.maximum(0.0, mean - 1.6449 * sd)) & (actual <= mean + 1.6449 * sd)
    end = forecast.origin + horizon * DAY
    total = actual.sum()
    cum_lo, cum_hi = forecast.demand_quantile_until(end, 0.05), forecast.demand_quantile_until(end, 0.95)
    return np.array(
        [
            horizon,
            actual.sum(),
            np.abs(mean - actual).sum(),
            ((mean - actual) ** 2).sum(),
            (mean - actual).sum(),
            np.abs(naive - actual).sum(),
            ((naive - actual) ** 2).sum(),
            np.abs(oracle - actual).sum(),
            abs(mean.sum() - total),
            abs(naive.sum() - total),
            abs(oracle.sum() - total),
            covered.sum(),
            float(cum_lo <= total <= cum_hi),
        ]
    )


def _summarise(rows: list[np.ndarray]) -> ClassScore:
    sums = [float(value) for value in np.sum(rows, axis=0)]
    days, pairs = sums[0], len(rows)
    return ClassScore(
        forecasts=pairs,
        mean_daily_vends=round(sums[1] / days, 3),
        mae=round(sums[2] / days, 4),
        rmse=round((sums[3] / days) ** 0.5, 4),
        bias=round(sums[4] / days, 4),
        naive_mae=round(sums[5] / days, 4),
        naive_rmse=round((sums[6] / days) ** 0.5, 4),
        oracle_mae=round(sums[7] / days, 4),
        cum_mae=round(sums[8] / pairs, 3),
        naive_cum_mae=round(sums[9] / pairs, 3),
        oracle_cum_mae=round(sums[10] / pairs, 3),
        coverage90=round(sums[11] / days, 3),
        cum_coverage90=round(sums[12] / pairs, 3),
    )
