"""The simulated fleet's demand: reproducible, means match rates, weekday and intraday shapes, intermittency."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from tradeoff.vending.demand import SITES, ColumnDemand, FleetDemand, day_factor

MONDAY = date(2026, 3, 2)


def column(kind: str = "office", demand_class: str = "fast", rate: float = 6.0, size: float = 1.0) -> ColumnDemand:
    return ColumnDemand(
        machine_id="M1",
        selection="10",
        product="cola",
        demand_class=demand_class,  # type: ignore[arg-type]
        base_rate=rate,
        mean_size=size,
        trend_per_week=0.0,
        site=SITES[kind],
        start=MONDAY,
        noise_seed=42,
    )


def test_same_seed_same_fleet_and_sales() -> None:
    days = [MONDAY + timedelta(days=d) for d in range(14)]
    first, second = (FleetDemand.generate(7, 5, 10, MONDAY) for _ in range(2))
    assert first == second
    counts = [np.array([c.daily_counts(days, np.random.default_rng(3)) for c in f.columns()]) for f in (first, second)]
    assert np.array_equal(counts[0], counts[1])
    assert FleetDemand.generate(8, 5, 10, MONDAY) != first


def test_fleet_has_every_class_and_several_site_types() -> None:
    fleet = FleetDemand.generate(1, 40, 30, MONDAY)
    assert len(fleet.machines) == 40 and len(fleet.columns()) == 1200
    assert {c.demand_class for c in fleet.columns()} == {"fast", "medium", "intermittent"}
    assert len({m.site.kind for m in fleet.machines}) >= 4
    assert all(c.machine_id == m.machine_id for m in fleet.machines for c in m.columns)


@pytest.mark.parametrize(("demand_class", "size"), [("fast", 1.0), ("intermittent", 2.0)])
def test_mean_of_samples_matches_rate(demand_class: str, size: float) -> None:
    col = column("hospital", demand_class, rate=6.0 if size == 1 else 0.4, size=size)
    day = MONDAY + timedelta(days=2)
    samples = col.daily_counts([day] * 20_000, np.random.default_rng(1))
    assert samples.mean() == pytest.approx(col.rate(day), rel=0.05)


def test_intermittent_items_have_mostly_zero_days() -> None:
    col = column("hospital", "intermittent", rate=0.3, size=2.0)
    days = [MONDAY + timedelta(days=d) for d in range(700)]
    counts = col.daily_counts(days, np.random.default_rng(2))
    assert (counts == 0).mean() > 0.8
    assert counts[counts > 0].mean() > 1.5  # purchases of several units at once


def test_weekday_effect_office_closed_at_weekends() -> None:
    col = column("office")
    days = [MONDAY + timedelta(days=d) for d in range(7 * 20)]
    counts = col.daily_counts(days, np.random.default_rng(4)).reshape(20, 7)
    assert counts[:, 5:].sum() == 0
    assert counts[:, 1].mean() > counts[:, 4].mean()  # Tuesday busier than Friday
    assert col.rate(MONDAY + timedelta(days=5)) == 0.0


def test_day_factor_is_deterministic_and_averages_one() -> None:
    site = SITES["hospital"]
    days = [MONDAY + timedelta(days=d) for d in range(2000)]
    factors = np.array([day_factor(5, site, day) for day in days])
    assert np.array_equal(factors, [day_factor(5, site, day) for day in days])
    assert factors.mean() == pytest.approx(1.0, abs=0.03)


def test_school_holiday_weeks_close_the_whole_week() -> None:
    site = SITES["school"]
    days = [MONDAY + timedelta(days=d) for d in range(7 * 200)]
    closed_weeks = [all(day_factor(9, site, d) == 0 for d in days[w * 7 : w * 7 + 5]) for w in range(200)]
    assert 0.02 < np.mean(closed_weeks) < 0.2


def test_hourly_weights_only_within_opening_hours() -> None:
    for site in SITES.values():
        weights = site.hourly_weights
        assert sum(weights) == pytest.approx(1.0)
        assert all(w == 0 for h, w in enumerate(weights) if not site.open_hour <= h < site.close_hour)


def test_sample_vends_fall_in_window_and_opening_hours() -> None:
    col = column("office", rate=8.0)
    start = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    end = start + timedelta(days=9)
    vends = col.sample_vends(start, end, np.random.default_rng(5))
    assert vends == sorted(vends)
    assert all(start <= t < end and 7 <= t.hour < 19 and t.weekday() < 5 for t in vends)


def test_sample_vends_count_matches_rate_and_split_windows_agree() -> None:
    col = column("gym", rate=5.0)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    expected = sum(col.rate(start.date() + timedelta(days=d)) for d in range(7))
    rng = np.random.default_rng(6)
    whole = [len(col.sample_vends(start, start + timedelta(days=7), rng)) for _ in range(300)]
    hours = [start + timedelta(hours=h) for h in range(0, 7 * 24 + 1, 5)] + [start + timedelta(days=7)]
    split = [sum(len(col.sample_vends(a, b, rng)) for a, b in zip(hours, hours[1:], strict=False)) for _ in range(100)]
    assert np.mean(whole) == pytest.approx(expected, rel=0.05)
    assert np.mean(split) == pytest.approx(expected, rel=0.07)


def test_sample_vends_needs_aware_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        column().sample_vends(datetime(2026, 3, 2), datetime(2026, 3, 3), np.random.default_rng(0))
