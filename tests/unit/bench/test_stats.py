"""Percentiles, rates and the commit-time lookup behind the MQTT latency."""

import pytest

from tradeoff.bench.stats import commit_times, millis, percentile, rate, ratio


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 99) == pytest.approx(3.97)


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([7.0], 50) == percentile([7.0], 99) == 7.0


@pytest.mark.parametrize("q", [-1, 101])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError, match="0..100"):
        percentile([1.0], q)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_rate_ratio_and_millis() -> None:
    assert rate(1000, 0.5) == 2000
    assert ratio(10, 40) == 0.25
    assert ratio(10, 0) == 0.0
    assert millis(0.0123456) == 12.35
    with pytest.raises(ValueError):
        rate(1, 0)


def test_each_seq_is_durable_at_the_first_commit_that_reaches_it() -> None:
    commits = [(1.0, 3), (2.0, 5), (3.5, 9)]
    assert commit_times(commits, [1, 3, 4, 5, 9]) == [1.0, 1.0, 2.0, 2.0, 3.5]


def test_commit_times_refuses_seqs_after_the_last_commit_and_unordered_commits() -> None:
    with pytest.raises(ValueError, match="after the last"):
        commit_times([(1.0, 3)], [4])
    with pytest.raises(ValueError, match="seq order"):
        commit_times([(1.0, 5), (2.0, 3)], [1])
