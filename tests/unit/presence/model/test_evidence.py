"""Evidence windows, the tracker and the two decisions."""

import numpy as np
import pytest

from tradeoff.presence.model.evidence import MotionModel, accumulate, decide, posterior, track


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


GRID_3 = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]], dtype=float)


def test_tracker_is_causal_later_scans_never_change_earlier_beliefs() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(6, 3))
    times = np.arange(6) * 2.0
    full = track(scores, times, None, GRID_3, MotionModel())
    prefix = track(scores[:3], times[:3], None, GRID_3, MotionModel())
    assert np.allclose(full[:3], prefix)


def test_tracker_adds_up_evidence_of_a_device_that_stays_put() -> None:
    weak = np.log(np.array([[0.5, 0.3, 0.2]] * 4))
    probabilities = posterior(track(weak, [0, 2, 4, 6], None, GRID_3, MotionModel(dwell_s=1e6)))
    assert probabilities[0, 0] == pytest.approx(0.5)
    assert np.all(np.diff(probabilities[:, 0]) > 0)  # each scan makes the same cell more certain


def test_tracker_follows_a_move_and_forgets_after_a_long_gap() -> None:
    at_0, at_2 = np.log([[0.9, 0.05, 0.05]]), np.log([[0.05, 0.05, 0.9]])
    scores = np.vstack([at_0] * 3 + [at_2] * 4)
    times = np.array([0, 2, 4, 6, 8, 10, 12], dtype=float)
    decided = decide(posterior(track(scores, times, None, GRID_3, MotionModel(dwell_s=10))))
    assert decided[:3].tolist() == [0, 0, 0] and decided[-1] == 2
    # A day later the old belief is gone: the first scan alone decides, however sure the past was.
    late = track(
        np.vstack([at_0] * 5 + [np.log([[0.3, 0.3, 0.4]])]), [0, 2, 4, 6, 8, 86_400], None, GRID_3, MotionModel()
    )
    assert posterior(late)[-1] == pytest.approx([0.3, 0.3, 0.4], abs=1e-3)


def test_tracker_keeps_streams_apart_and_works_without_a_grid() -> None:
    scores = np.log(np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9]]))
    streams = ["a", "b", "a", "b"]
    decided = decide(posterior(track(scores, [0, 0, 2, 2], streams, None, MotionModel())))
    assert decided.tolist() == [0, 1, 0, 1]
