"""Unicity gate for row-level exports: raw-looking traces are refused, coarse ones pass."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from tradeoff.privacy.release.unicity import (
    ExportRefused,
    check_row_export,
    hour_bucket,
    measure,
    traces_from_rows,
    unicity,
)

ZONES = 40
HOURS = 24 * 7 * 4  # four weeks of hours


def _raw_traces(subjects: int, points_each: int, seed: int) -> dict[str, list[tuple[int, int]]]:
    """Mobility-like traces: each subject has a few favourite zones, visits at random hours."""
    rng = random.Random(seed)
    traces = {}
    for s in range(subjects):
        favourites = rng.sample(range(ZONES), 4)
        traces[f"s{s}"] = [(rng.choice(favourites), rng.randrange(HOURS)) for _ in range(points_each)]
    return traces


def _calibrated_traces(subjects: int, seed: int) -> dict[str, list[tuple[int, int, int]]]:
    """(zone, day, hour) traces calibrated to the literature's 90–95 % four-point unicity: six zones with
    Zipf popularity, three days, each shopper with two habitual hours out of twelve, six visits."""
    rng = random.Random(seed)
    weights = [1 / (z + 1) for z in range(6)]
    traces = {}
    for s in range(subjects):
        habits = rng.sample(range(12), 2)
        traces[f"s{s}"] = [(rng.choices(range(6), weights)[0], rng.randrange(3), rng.choice(habits)) for _ in range(6)]
    return traces


def test_calibrated_traces_are_refused_and_their_coarsening_passes() -> None:
    traces = _calibrated_traces(5000, seed=1)
    report = measure(traces, points=4, trials=3, seed=2)
    assert 0.88 < report.unicity < 0.97  # the 90–95 % baseline
    with pytest.raises(ExportRefused):
        check_row_export(traces, seed=2)
    by_day = {s: [(zone, day) for zone, day, _ in trace] for s, trace in traces.items()}  # drop the hour
    assert check_row_export(by_day, seed=2).unicity <= 0.01


def test_raw_traces_are_unique_and_refused() -> None:
    traces = _raw_traces(2000, 30, seed=1)
    assert unicity(traces, points=4, seed=7) > 0.9  # the 90–95 % baseline of the literature
    with pytest.raises(ExportRefused) as refused:
        check_row_export(traces, export_name="sightings-2026-w48", seed=7)
    assert refused.value.report.unicity > 0.01
    assert refused.value.status == 403 and refused.value.code == "export_refused"
    assert "sightings-2026-w48" in refused.value.message


def test_even_two_points_identify_most_raw_traces() -> None:
    assert unicity(_raw_traces(2000, 30, seed=2), points=2, seed=3) > 0.5


def test_coarse_traces_pass() -> None:
    """Aggregated to shared patterns (e.g. zone × part of day, grouped into cohorts): nobody is unique."""
    rng = random.Random(5)
    patterns = [[(rng.randrange(4), rng.randrange(3)) for _ in range(6)] for _ in range(20)]
    traces = {f"s{s}": list(patterns[s % 20]) for s in range(2000)}  # 100 subjects share each pattern
    report = check_row_export(traces, seed=11)
    assert report.passed and report.unicity == 0.0
    assert report.subjects == 2000


def test_a_few_unique_subjects_among_many_stay_under_one_percent() -> None:
    traces: dict[str, list[tuple[str, int]]] = {f"crowd{s}": [("entrance", 9), ("till", 10)] for s in range(1000)}
    for s in range(5):  # 5 / 1005 ≈ 0.5 %
        traces[f"odd{s}"] = [("stockroom", s)]
    report = check_row_export(traces, seed=1, trials=1)
    assert 0 < report.unicity <= 0.01


def test_measure_reports_and_samples() -> None:
    traces = _raw_traces(500, 10, seed=4)
    report = measure(traces, points=4, trials=2, seed=1, max_subjects=100)
    assert (report.subjects, report.tested, report.trials) == (500, 100, 2)
    assert measure({}, seed=1).unicity == 0.0
    assert measure({"a": []}, seed=1).subjects == 0
    with pytest.raises(ValueError):
        measure(traces, points=0)


def test_unicity_is_fast_on_large_exports() -> None:
    traces = _raw_traces(30_000, 20, seed=9)
    started = time.perf_counter()
    value = unicity(traces, points=4, seed=1, max_subjects=20_000)
    assert value > 0.9
    assert time.perf_counter() - started < 20  # point → subjects index, smallest set first: ~1–2 s here


def test_traces_from_rows_buckets_by_hour() -> None:
    at = datetime(2026, 12, 1, 9, 59, 59, tzinfo=UTC)
    rows = [("s1", "zone-a", at), ("s1", "zone-b", at + timedelta(seconds=1)), ("s2", "zone-a", at)]
    traces = traces_from_rows(rows)
    nine, ten = datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert traces["s1"] == [("zone-a", nine), ("zone-b", ten)]
    assert hour_bucket(at, resolution=timedelta(days=1)) == datetime(2026, 12, 1, tzinfo=UTC)
