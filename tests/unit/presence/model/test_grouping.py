"""Visits as CV groups: near-duplicate scans of one stop never straddle folds."""

import numpy as np
import pytest

from tradeoff.presence.model.grouping import grouped_folds, visit_groups


def test_a_cell_revisited_soon_is_one_visit_and_later_is_another() -> None:
    labels = ["A01", "A01", "B01", "A01", "A01", "B01"]
    times = [0, 2, 4, 60, 10_000, 10_002]
    groups = visit_groups(labels, times, max_gap_s=3600)
    assert groups[0] == groups[1] == groups[3]  # interrupted by B01, back a minute later
    assert groups[4] != groups[0]
    assert groups[2] != groups[5]
    assert len(set(groups.tolist())) == 4


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="same length"):
        visit_groups(["A01"], [0, 1])


def test_folds_keep_groups_whole_and_depend_on_the_seed() -> None:
    groups = np.repeat(np.arange(20), 3)
    folds = grouped_folds(groups, 5, seed=1)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(60))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    assert [t.tolist() for _, t in folds] != [t.tolist() for _, t in grouped_folds(groups, 5, seed=2)]


def test_too_few_groups_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="cannot fill 5 folds"):
        grouped_folds([0, 0, 1], 5, seed=0)
