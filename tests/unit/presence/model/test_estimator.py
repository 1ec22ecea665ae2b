"""The kernel fingerprint model and the scikit-learn references, on a known synthetic store."""

import numpy as np
import pytest

from tests.unit.presence.model.world import survey
from tradeoff.presence.model.estimator import (
    BlendZoneModel,
    KernelFingerprint,
    KernelParams,
    beacon_scales,
    extra_trees,
    pair_terms,
    plain_knn,
    strength,
    weighted_knn_exponential,
)
from tradeoff.presence.model.features import clean


def test_pair_terms_count_shared_differences_and_weigh_one_sided_beacons_by_strength() -> None:
    test = clean([[-70, -200, -90]])
    train = clean([[-73, -60, -200]])
    squared, one_sided = pair_terms(test, train)
    assert squared[0, 0] == 9
    assert one_sided[0, 0] == pytest.approx(strength(np.array([-60.0]))[0] + strength(np.array([-90.0]))[0])
    assert strength(np.array([-60.0]))[0] == 3.0  # 45 dB above the -105 floor, in 15 dB units


def test_a_scan_seen_in_calibration_is_placed_at_its_cell() -> None:
    data = survey(seed=1)
    model = KernelFingerprint(KernelParams(spatial_cells=0)).fit(data.matrix, data.labels)
    predicted = model.classes_[model.log_scores(data.matrix[:40]).argmax(axis=1)]
    assert (predicted == data.labels[:40]).mean() > 0.9


def test_log_scores_are_relative_and_floored() -> None:
    data = survey(seed=2)
    scores = KernelFingerprint().fit(data.matrix, data.labels).log_scores(data.matrix[:5])
    assert scores.shape == (5, len(np.unique(data.labels)))
    assert np.allclose(scores.max(axis=1), np.log(1 + 1e-3))
    assert scores.min() >= np.log(1e-3)


def test_fit_needs_one_label_per_scan() -> None:
    with pytest.raises(ValueError, match="one label per scan"):
        KernelFingerprint().fit(np.zeros((2, 3)) - 70, ["A01"])


def test_beacon_scales_shrink_wobbly_beacons_and_leave_rare_ones_near_average() -> None:
    rng = np.random.default_rng(0)
    codes = np.repeat(np.arange(10), 20)
    steady = -70 + rng.normal(0, 1, 200)
    wobbly = -70 + rng.normal(0, 4, 200)
    rare = np.full(200, np.nan)
    rare[:2] = [-80, -90]
    scales = beacon_scales(np.column_stack([steady, wobbly, rare]), codes)
    assert scales[0] > 1 > scales[1]
    assert scales[1] < scales[2] < scales[0]


@pytest.mark.parametrize(
    "make",
    [
        plain_knn,
        weighted_knn_exponential,
        lambda: extra_trees(trees=10),
        lambda: BlendZoneModel([KernelFingerprint(), extra_trees(trees=10)]),
    ],
)
def test_reference_models_give_scores_in_class_order(make: object) -> None:
    data = survey(seed=3)
    model = make().fit(data.matrix, data.labels)  # type: ignore[operator]
    scores = model.log_scores(data.matrix[:7])
    assert scores.shape == (7, len(model.classes_))
    assert list(model.classes_) == sorted(set(data.labels))
