"""Release core: no published cell is computed from fewer than k distinct subjects (property tests),
contribution bounds hold, and suppression follows the documented rule."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeoff.privacy.release.mechanisms import (
    Aggregates,
    Statistic,
    aggregate_counts,
    aggregate_sums,
    release_counts,
    release_sums,
)

ZONES = [f"z{i}" for i in range(6)]
HOURS = list(range(4))

# Datasets skewed towards groups near the threshold: 0–60 subjects, each with 1–8 rows in a small key space.
rows_strategy = st.lists(
    st.tuples(st.integers(0, 59), st.sampled_from(ZONES), st.sampled_from(HOURS)), min_size=0, max_size=400
)


def _true_subjects(rows: list[tuple[int, str, int]]) -> dict[tuple[str, int], set[int]]:
    found: dict[tuple[str, int], set[int]] = defaultdict(set)
    for subject, zone, hour in rows:
        found[(zone, hour)].add(subject)
    return found


@settings(max_examples=150, deadline=None)
@given(
    rows=rows_strategy,
    k=st.integers(1, 15),
    c=st.integers(1, 4),
    epsilon=st.sampled_from([0.05, 0.5, 2.0, 50.0]),
    statistic=st.sampled_from([Statistic.SUBJECTS, Statistic.CONTRIBUTIONS]),
    public=st.booleans(),
)
def test_no_released_count_comes_from_fewer_than_k_subjects(
    rows: list[tuple[int, str, int]], k: int, c: int, epsilon: float, statistic: Statistic, public: bool
) -> None:
    rng = random.Random(0)
    aggregates = aggregate_counts(((s, (z, h)) for s, z, h in rows), statistic=statistic, max_contributions=c, rng=rng)
    groups = [(z, h) for z in ZONES for h in HOURS] if public else None
    result = release_counts(
        aggregates,
        statistic=statistic,
        epsilon=epsilon,
        max_contributions=c,
        min_group_size=k,
        groups=groups,
        delta=1e-6,
    )
    truth = _true_subjects(rows)
    for cell in result.cells:
        assert len(truth[cell.key]) >= k  # raw data: at least k distinct subjects …
        assert aggregates.subjects[cell.key] >= k  # … and still k after contribution bounding
        assert cell.value >= max(k, result.threshold)  # the noisy value passed the floor too
    released = {cell.key for cell in result.cells}
    if public:
        assert released | set(result.suppressed) == set(groups or [])
        assert not released & set(result.suppressed)
    else:
        assert result.suppressed == ()  # data-derived keys are never named when suppressed
        assert result.threshold >= k and 0 < result.delta <= 1e-6


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 59), st.sampled_from(ZONES), st.integers(-500, 5000)), min_size=0, max_size=300
    ),
    k=st.integers(1, 15),
    c=st.integers(1, 3),
    public=st.booleans(),
)
def test_no_released_sum_comes_from_fewer_than_k_subjects(
    rows: list[tuple[int, str, int]], k: int, c: int, public: bool
) -> None:
    aggregates = aggregate_sums(
        ((s, z, v) for s, z, v in rows), bounds=(0, 2000), max_contributions=c, rng=random.Random(1)
    )
    result = release_sums(
        aggregates,
        epsilon=1.0,
        bounds=(0, 2000),
        max_contributions=c,
        min_group_size=k,
        groups=ZONES if public else None,
        delta=1e-6,
    )
    subjects: dict[str, set[int]] = defaultdict(set)
    for subject, zone, _ in rows:
        subjects[zone].add(subject)
    for cell in result.cells:
        assert len(subjects[str(cell.key)]) >= k
        assert cell.count is not None and cell.count >= k


def test_contribution_bounds_hold_per_subject() -> None:
    rows = [(s, f"g{g}") for s in range(30) for g in range(10)] * 3  # every subject: 10 groups, 3 rows each
    distinct = aggregate_counts(rows, statistic=Statistic.SUBJECTS, max_contributions=2, rng=random.Random(3))
    assert sum(distinct.values.values()) == 30 * 2  # each subject counted in exactly 2 groups
    assert distinct.dropped == 30 * 8
    assert distinct.subjects_seen == 30
    contributions = aggregate_counts(rows, statistic=Statistic.CONTRIBUTIONS, max_contributions=4, rng=random.Random(3))
    assert sum(contributions.values.values()) == 30 * 4
    sums = aggregate_sums(
        [(s, "basket", 10_000) for s in range(5) for _ in range(3)],
        bounds=(0, 2500),
        max_contributions=2,
        rng=random.Random(0),
    )
    assert sums.values == {"basket": 5 * 2 * 2500}  # clamped, then bounded
    assert sums.subjects == {"basket": 5}


def test_public_groups_report_suppressed_cells_and_keep_large_ones() -> None:
    aggregates = Aggregates(
        values={"big": 1000, "small": 9, "edge": 10},
        subjects={"big": 1000, "small": 9, "edge": 10},
    )
    result = release_counts(
        aggregates,
        statistic=Statistic.SUBJECTS,
        epsilon=1000.0,  # almost no noise: the floors decide
        max_contributions=1,
        min_group_size=10,
        groups=["big", "small", "edge", "empty"],
        delta=1e-6,
    )
    assert [c.key for c in result.cells if c.key == "big"] == ["big"]
    assert {"small", "empty"} <= set(result.suppressed)
    assert result.noise_scale == pytest.approx(1 / 1000)


def test_data_derived_keys_use_a_threshold_above_k() -> None:
    aggregates = Aggregates(values={"busy": 5000, "quiet": 12}, subjects={"busy": 5000, "quiet": 12})
    result = release_counts(
        aggregates,
        statistic=Statistic.SUBJECTS,
        epsilon=0.5,
        max_contributions=1,
        min_group_size=10,
        groups=None,
        delta=1e-6,
    )
    assert result.threshold > 10  # τ for δ=1e-6 at b=2 is about 27
    assert [c.key for c in result.cells] == ["busy"]


def test_bad_keys_and_parameters_are_refused() -> None:
    with pytest.raises(TypeError):
        aggregate_counts([("s", 1.5)], statistic=Statistic.SUBJECTS, max_contributions=1, rng=random.Random())  # type: ignore[list-item]
    with pytest.raises(TypeError):
        aggregate_counts([("s", True)], statistic=Statistic.SUBJECTS, max_contributions=1, rng=random.Random())
    with pytest.raises(ValueError):
        aggregate_counts([], statistic=Statistic.SUBJECTS, max_contributions=0, rng=random.Random())
    with pytest.raises(ValueError):
        aggregate_sums([], bounds=(5, 1), max_contributions=1, rng=random.Random())
