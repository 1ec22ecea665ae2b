"""fit_forecast(s): model choice by history, weekday pattern, intermittency, gaps, priors, uncertainty."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradeoff.vending.forecast.fit import FitSettings, fit_forecast, fit_forecasts

MONDAY = date(2026, 1, 5)
WEEKS = 8
ORIGIN = datetime.combine(MONDAY + timedelta(weeks=WEEKS), datetime.min.time(), UTC)  # a Monday
OFFICE = np.array([1.1, 1.1, 1.1, 1.0, 0.7, 0.0, 0.0])
GYM = np.array([1.2, 1.0, 1.0, 1.0, 0.8, 1.1, 0.9])


def history(rates: np.ndarray, *, seed: int = 0, weeks: int = WEEKS, size: float = 1.0) -> list[tuple[date, float]]:
    """Daily vends drawn around a weekly rate pattern (compound Poisson when ``size`` > 1)."""
    rng = np.random.default_rng(seed)
    days = [MONDAY + timedelta(days=d) for d in range(weeks * 7)]
    occasions = rng.poisson([rates[d.weekday()] / size for d in days])
    units = (
        occasions
        if size == 1
        else occasions + rng.negative_binomial(np.maximum(occasions, 1), 1 / size) * (occasions > 0)
    )
    return [(d, float(u)) for d, u in zip(days, units, strict=True)]


def test_regular_demand_gets_ets_with_the_weekday_pattern() -> None:
    past = history(8 * GYM)
    forecast = fit_forecast(past, origin=ORIGIN, horizon_days=14)
    assert forecast.model == "ses*weekday"
    assert len(forecast.daily_mean) == 14
    assert sum(forecast.daily_mean[:7]) == pytest.approx(8 * GYM.sum(), rel=0.1)
    by_weekday = np.array([np.mean([v for d, v in past if d.weekday() == w]) for w in range(7)])
    assert np.array(forecast.daily_mean[:7]) == pytest.approx(by_weekday, rel=0.1)  # ORIGIN is a Monday
    assert all(v >= m for m, v in zip(forecast.daily_mean, forecast.daily_var, strict=True))
    assert forecast.daily_mean[:7] == forecast.daily_mean[7:]


def test_intermittent_demand_gets_tsb_times_the_weekday_profile() -> None:
    rates = 0.3 * GYM
    histories = {seed: history(rates, size=2.0, weeks=12, seed=seed) for seed in range(40)}
    forecasts = fit_forecasts(histories, origin=ORIGIN + timedelta(weeks=4), horizon_days=7)
    assert {f.model for f in forecasts.values()} == {"tsb*weekday"}
    weekly = [sum(f.daily_mean) for f in forecasts.values()]
    assert np.mean(weekly) == pytest.approx(rates.sum(), rel=0.15)  # unbiased over many columns
    for forecast in forecasts.values():
        assert all(v >= 1.5 * m for m, v in zip(forecast.daily_mean, forecast.daily_var, strict=True))  # lumpy


def test_machine_pooling_keeps_office_weekends_empty_for_a_slow_item() -> None:
    histories = {("M1", slot): history(6 * OFFICE, seed=slot) for slot in range(5)}
    histories["M1", "slow"] = history(0.3 * OFFICE, seed=9)
    groups = {key: "M1" for key in histories}
    forecasts = fit_forecasts(histories, origin=ORIGIN, horizon_days=7, groups=groups)
    assert set(forecasts) == set(histories)
    for forecast in forecasts.values():
        assert forecast.daily_mean[5] == forecast.daily_mean[6] == 0.0
        assert forecast.daily_var[5] == 0.0
    slow = forecasts["M1", "slow"]
    assert sum(slow.daily_mean) == pytest.approx(0.3 * OFFICE.sum(), rel=0.5)


def test_short_history_falls_back_and_shrinks_to_the_prior() -> None:
    short = [(MONDAY + timedelta(days=d), 1.0) for d in range(7)]
    origin = datetime.combine(MONDAY + timedelta(days=7), datetime.min.time(), UTC)
    alone = fit_forecast(short, origin=origin)
    with_prior = fit_forecast(short, origin=origin, prior_rate=5.0)
    assert alone.model == with_prior.model == "fallback*weekday"
    assert sum(alone.daily_mean[:7]) == pytest.approx(7.0)
    assert sum(with_prior.daily_mean[:7]) == pytest.approx(7 * 3.0)  # 7 days of 1 and 7 prior days of 5


def test_no_history() -> None:
    empty = fit_forecast([], origin=ORIGIN)
    assert empty.model == "empty" and set(empty.daily_mean) == {0.0}
    assert empty.crossing_time(5, 2) is None
    prior = fit_forecast([], origin=ORIGIN, prior_rate=2.0, weekday_prior=OFFICE)
    assert prior.model == "prior"
    assert prior.daily_mean[5] == 0.0 and sum(prior.daily_mean[:7]) == pytest.approx(14.0)
    assert prior.daily_var[0] > 2 * prior.daily_mean[0]


def test_nothing_sold_means_rarely_not_never() -> None:
    zeros = [(MONDAY + timedelta(days=d), 0.0) for d in range(28)]
    forecast = fit_forecast(zeros, origin=ORIGIN)
    assert 0 < sum(forecast.daily_mean) < 0.5


def test_missing_days_are_unknown_not_zero() -> None:
    full = history(6 * GYM)
    gappy = [(d, v) for d, v in full if not (MONDAY + timedelta(days=20) <= d < MONDAY + timedelta(days=34))]
    zeroed = [(d, v if (d, v) in gappy else 0.0) for d, v in full]
    kept, lost = (sum(fit_forecast(h, origin=ORIGIN).daily_mean[:7]) for h in (gappy, zeroed))
    assert kept == pytest.approx(6 * GYM.sum(), rel=0.15)
    assert lost < kept


def test_machine_wide_outage_is_ignored() -> None:
    histories = {slot: history(8 * GYM, seed=slot) for slot in range(4)}
    closed = {MONDAY + timedelta(days=d) for d in range(49, 56)}  # the machine was off the last week
    dark = {k: [(d, 0.0 if d in closed else v) for d, v in h] for k, h in histories.items()}
    groups = dict.fromkeys(histories, "M")
    pooled = fit_forecasts(dark, origin=ORIGIN, horizon_days=7, groups=groups)
    naive = fit_forecasts(dark, origin=ORIGIN, horizon_days=7)
    for key in histories:
        assert sum(pooled[key].daily_mean) == pytest.approx(8 * GYM.sum(), rel=0.2)
        assert sum(naive[key].daily_mean) < sum(pooled[key].daily_mean)


def test_origin_inside_a_day_blends_the_two_days_and_ignores_today() -> None:
    base = history(6 * OFFICE)
    friday_noon = datetime.combine(MONDAY + timedelta(weeks=WEEKS, days=4), datetime.min.time(), UTC) + timedelta(
        hours=12
    )
    today_sales = [(friday_noon.date(), 500.0)]
    at_noon = fit_forecast(base + today_sales, origin=friday_noon)
    at_midnight = fit_forecast(base, origin=friday_noon.replace(hour=0))
    assert at_noon.daily_mean[0] == pytest.approx(0.5 * at_midnight.daily_mean[0])  # Friday pm + Saturday am
    assert at_noon.origin == friday_noon


def test_gap_between_history_and_origin_is_bridged() -> None:
    forecast = fit_forecast(history(6 * GYM), origin=ORIGIN + timedelta(days=10))
    assert sum(forecast.daily_mean[:7]) == pytest.approx(6 * GYM.sum(), rel=0.2)


def test_level_uncertainty_is_shared_across_days() -> None:
    forecast = fit_forecast(history(8 * GYM), origin=ORIGIN)
    assert forecast.shared_cv2 > 0
    week = ORIGIN + timedelta(days=7)
    assert forecast.demand_var_until(week) > sum(forecast.daily_var[:7])


def test_intermittent_model_can_be_chosen() -> None:
    cfg = FitSettings(intermittent_model="croston", regular_model="ets")
    intermittent = fit_forecast(
        history(0.3 * GYM, size=2.0, weeks=12), origin=ORIGIN + timedelta(weeks=4), settings=cfg
    )
    assert intermittent.model == "croston*weekday"
    with pytest.raises(ValueError, match="unknown model"):
        fit_forecast(history(8 * GYM), origin=ORIGIN, settings=FitSettings(regular_model="prophet"))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        fit_forecast([], origin=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="horizon_days"):
        fit_forecast([], origin=ORIGIN, horizon_days=0)
    with pytest.raises(ValueError, match="weekday profile"):
        fit_forecast([], origin=ORIGIN, weekday_prior=(1.0, 1.0))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.one_of(st.none(), st.floats(0, 40, allow_nan=False)), min_size=0, max_size=60),
    hour=st.integers(0, 23),
)
def test_any_history_gives_a_valid_forecast(values: list[float | None], hour: int) -> None:
    past = [(MONDAY + timedelta(days=d), v) for d, v in enumerate(values) if v is not None]
    origin = datetime.combine(MONDAY + timedelta(days=len(values)), datetime.min.time(), UTC) + timedelta(hours=hour)
    forecast = fit_forecast(past, origin=origin, horizon_days=10)
    assert len(forecast.daily_mean) == 10
    assert all(math.isfinite(m) and m >= 0 for m in forecast.daily_mean)
    assert all(math.isfinite(v) and v >= 0 for v in forecast.daily_var)
