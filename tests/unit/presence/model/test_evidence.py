"""Evidence windows and the two decisions."""

import numpy as np

from tradeoff.presence.model.evidence import accumulate, decide, posterior


def test_window_sums_earlier_scans_of_the_same_group_only() -> None:
    scores = np.array([[1.0], [2.0], [4.0], [8.0], [16.0]])
    times = [0, 2, 4, 100, 3]
    groups = ["a", "a", "a", "a", "b"]
    out = accumulate(scores, times, groups, window_s=3)
    assert out[:, 0].tolist() == [1, 3, 6, 8, 16]


def test_window_zero_is_per_scan() -> None:
    scores = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert (accumulate(scores, [0, 1], [0, 0], 0) == scores).all()


def test_posterior_is_a_softmax() -> None:
    probabilities = posterior(np.log(np.array([[1.0, 3.0]])) + 100)
    assert np.allclose(probabilities, [[0.25, 0.75]])


def test_least_expected_distance_picks_the_cell_between_two_rivals() -> None:
    probabilities = np.array([[0.4, 0.2, 0.4]])
    distances = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]], dtype=float)
    assert decide(probabilities).tolist() == [0]
    assert decide(probabilities, distances).tolist() == [1]
