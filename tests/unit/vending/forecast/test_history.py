"""Histories: calendar grid with unknown days, weekday profiles, closed weekdays, outages, gap spreading."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from tradeoff.vending.forecast.history import (
    dispersion,
    intervals,
    open_weekdays,
    outage_days,
    pooled_profile,
    shrunk_profile,
    spread_delta,
    to_grid,
)

MONDAY = date(2026, 3, 2)


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def test_grid_marks_missing_days_unknown_adds_duplicates_and_drops_the_future() -> None:
    grid = to_grid([(day(0), 2), (day(3), 1), (day(3), 4), (day(9), 7)], before=day(9))
    assert grid is not None
    assert grid.first == MONDAY and grid.last == day(3)
    assert np.array_equal(np.isnan(grid.values), [False, True, True, False])
    assert grid.values[3] == 5
    assert grid.observed() == 2
    assert to_grid([(day(9), 1)], before=day(9)) is None


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_grid_rejects_bad_vends(bad: float) -> None:
    with pytest.raises(ValueError, match="vends on"):
        to_grid([(MONDAY, bad)], before=day(5))


def test_weekday_sums_count_observed_days_only() -> None:
    grid = to_grid([(day(0), 2), (day(7), 4), (day(8), 1)], before=day(20))
    assert grid is not None
    vends, days = grid.weekday_sums()
    assert vends[0] == 6 and days[0] == 2 and vends[1] == 1 and days[2] == 0


def test_shrunk_profile_fast_keeps_its_own_slow_borrows_the_prior() -> None:
    prior = np.array([1.4, 1.4, 1.4, 1.4, 1.4, 0.0, 0.0])
    own = np.array([2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    fast = shrunk_profile(own * 100, np.full(7, 8.0), prior, strength=20)
    slow = shrunk_profile(own * 0.3, np.full(7, 8.0), prior, strength=20)
    assert fast[0] / fast[1] == pytest.approx(2.0, rel=0.1)
    assert slow[0] / slow[1] < 1.4 and slow[5] < 0.4
    assert fast.sum() == pytest.approx(7) and slow.sum() == pytest.approx(7)
    assert np.array_equal(shrunk_profile(np.zeros(7), np.full(7, 3.0), prior, 20), prior)


def test_a_weekday_that_never_sells_is_closed() -> None:
    profile = np.array([1.2, 1.2, 1.2, 1.2, 1.2, 0.5, 0.03])
    vends = np.array([40.0, 40, 40, 40, 40, 0, 0])
    assert list(open_weekdays(profile, vends, np.full(7, 8.0))) == [True] * 5 + [False, False]
    slow = np.array([1.0, 1, 1, 1, 1, 0, 0])  # a slow item: two zero Saturdays prove nothing
    assert open_weekdays(profile, slow, np.full(7, 2.0))[5]


def test_pooled_profile_is_relative_and_flat_when_empty() -> None:
    sums = [
        (np.array([5.0, 5, 5, 5, 5, 0, 0]), np.full(7, 5.0)),
        (np.array([10.0, 10, 10, 10, 10, 0, 0]), np.full(7, 5.0)),
    ]
    profile = pooled_profile(sums)
    assert profile == pytest.approx([1.4] * 5 + [0, 0])
    assert pooled_profile([]) == pytest.approx(np.ones(7))


def test_outage_days_need_the_whole_machine_silent() -> None:
    busy = to_grid([(day(d), 0.0 if d == 9 else 10.0) for d in range(21)], before=day(21))
    slow = to_grid([(day(d), float(d % 5 == 0)) for d in range(21)], before=day(21))
    assert busy is not None and slow is not None
    assert outage_days([busy, slow]) == {day(9)}
    quiet = to_grid([(day(d), float(d == 3)) for d in range(21)], before=day(21))
    assert quiet is not None and outage_days([quiet]) == set()  # expected far below 5 vends


def test_intervals_adi_and_cv2() -> None:
    adi, cv2 = intervals(np.array([0, 0, 3, 0, 0, 3, np.nan, 0, 0, 3.0]))
    assert adi == pytest.approx(3.0) and cv2 == 0.0
    assert intervals(np.zeros(5))[0] == float("inf")


def test_dispersion_is_about_one_for_poisson_and_more_for_lumpy() -> None:
    rng = np.random.default_rng(0)
    assert dispersion(rng.poisson(7.0, 400).astype(float)) == pytest.approx(1.0, abs=0.25)
    lumpy = rng.poisson(7.0 * rng.gamma(2.0, 0.5, 400)).astype(float)
    assert dispersion(lumpy) > 2
    assert dispersion(np.zeros(10)) == 1.0


def test_spread_delta_follows_the_weekday_profile() -> None:
    office = (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0)
    spread = spread_delta(day(3), day(10), 20.0, office)  # Thursday to the next Thursday
    assert [d for d, _ in spread] == [day(d) for d in range(3, 10)]
    assert sum(v for _, v in spread) == pytest.approx(20.0)
    assert dict(spread)[day(5)] == 0.0 and dict(spread)[day(3)] == pytest.approx(4.0)
    assert sum(v for _, v in spread_delta(day(5), day(7), 3.0, office)) == pytest.approx(3.0)  # a weekend: flat
    with pytest.raises(ValueError):
        spread_delta(day(3), day(3), 1.0)
    with pytest.raises(ValueError):
        spread_delta(day(3), day(4), -1.0)
    with pytest.raises(ValueError):
        spread_delta(day(3), day(4), 1.0, (1.0, 2.0))
