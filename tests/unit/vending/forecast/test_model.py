"""ColumnForecast: cumulative demand, quantiles, shared level uncertainty, threshold crossing and stock-out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradeoff.vending.forecast.model import ColumnForecast

ORIGIN = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def constant(mean: float = 2.0, var: float = 2.0, days: int = 14, cv2: float = 0.0) -> ColumnForecast:
    return ColumnForecast(ORIGIN, (mean,) * days, (var,) * days, "constant", shared_cv2=cv2)


def test_demand_until_counts_whole_and_partial_days_and_repeats_the_last() -> None:
    forecast = ColumnForecast(ORIGIN, (1.0, 3.0), (1.0, 3.0), "two-days")
    assert forecast.demand_until(ORIGIN) == 0.0
    assert forecast.demand_until(ORIGIN - DAY) == 0.0
    assert forecast.demand_until(ORIGIN + 1.5 * DAY) == pytest.approx(2.5)
    assert forecast.demand_until(ORIGIN + 4 * DAY) == pytest.approx(1 + 3 * 3)


def test_quantiles_are_ordered_and_never_negative() -> None:
    forecast = constant()
    until = ORIGIN + 3 * DAY
    low, mid, high = (forecast.demand_quantile_until(until, q) for q in (0.1, 0.5, 0.9))
    assert 0 <= low < mid < high
    assert mid == pytest.approx(6.0)
    assert constant(mean=0.1, var=5.0).demand_quantile_until(until, 0.05) == 0.0


def test_crossing_time_median_and_cautious() -> None:
    forecast = constant(mean=2.0, var=2.0)
    median = forecast.crossing_time(10, 4, q=0.5)
    cautious = forecast.crossing_time(10, 4, q=0.9)
    assert median is not None and cautious is not None
    assert (median - ORIGIN) / DAY == pytest.approx(3.0, abs=0.01)
    assert cautious < median
    assert (cautious - ORIGIN) / DAY > 1.0


def test_crossing_time_edge_cases() -> None:
    forecast = constant(mean=2.0)
    assert forecast.crossing_time(4, 4) == ORIGIN
    assert forecast.crossing_time(1000, 4, limit_days=30) is None
    assert constant(mean=0.0, var=0.0).crossing_time(10, 4) is None


def test_stockout_time() -> None:
    forecast = constant(mean=2.0, var=2.0)
    out = forecast.stockout_time(10)
    assert out is not None and (out - ORIGIN) / DAY == pytest.approx(5.0, abs=0.01)
    early = forecast.stockout_time(10, q=0.9)
    assert early is not None and early < out
    assert forecast.stockout_time(0) == ORIGIN


def test_shared_level_uncertainty_adds_up_correlated() -> None:
    independent = constant(mean=2.0, var=2.0 + 0.1 * 4)
    shared = constant(mean=2.0, var=2.0 + 0.1 * 4, cv2=0.1)
    week = ORIGIN + 7 * DAY
    assert independent.demand_var_until(week) == pytest.approx(7 * 2.4)
    assert shared.demand_var_until(week) == pytest.approx(7 * 2.0 + 0.1 * 14**2)
    assert shared.demand_var_until(ORIGIN + DAY) == pytest.approx(2.4)  # one day: the same either way


@pytest.mark.parametrize(
    ("mean", "var", "cv2"), [((), (), 0.0), ((1.0,), (1.0, 1.0), 0.0), ((-1.0,), (1.0,), 0.0), ((1.0,), (1.0,), -1)]
)
def test_invalid_forecasts_are_rejected(mean: tuple[float, ...], var: tuple[float, ...], cv2: float) -> None:
    with pytest.raises(ValueError):
        ColumnForecast(ORIGIN, mean, var, "bad", shared_cv2=cv2)
