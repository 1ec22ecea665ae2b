"""Grouped CV with the inner parameter and motion-model search, on a synthetic store where the answer is known."""

from typing import Any

import numpy as np

from tests.unit.presence.model.world import survey
from tradeoff.presence.model.estimator import KernelFingerprint, KernelParams, plain_knn
from tradeoff.presence.model.evaluation import (
    cross_validate,
    decision_loss,
    fixed_trainer,
    kernel_trainer,
    log_loss,
    out_of_fold_scores,
    select_kernel_params,
    select_motion,
)
from tradeoff.presence.model.evidence import MotionModel
from tradeoff.presence.model.metrics import cell_metrics

GRID = (KernelParams(bandwidth_db=1.5), KernelParams(bandwidth_db=40.0, mismatch=0.1))


def test_the_inner_search_prefers_a_sensible_kernel_over_a_blind_one() -> None:
    data = survey(seed=4)
    best, table = select_kernel_params(data.matrix, data.labels, data.groups, n_folds=3, grid=GRID)
    assert best == GRID[0]
    assert len(table) == 2 and table[0][1] < table[1][1]


def test_too_few_groups_fall_back_to_defaults() -> None:
    data = survey(seed=4, visits=1, columns=1, rows=2)
    best, table = select_kernel_params(data.matrix, data.labels, data.groups, n_folds=3)
    assert best == KernelParams() and table == []


def test_log_loss_charges_unknown_classes_the_floor() -> None:
    classes = np.array(["A01", "B01"])
    losses = log_loss(classes, np.array([[0.5, 0.5], [1.0, 0.0]]), np.array(["B01", "C01"]))
    assert np.allclose(losses, [np.log(2), -np.log(1e-4)])


def test_kernel_model_places_most_scans_within_a_cell_and_beats_plain_knn() -> None:
    data = survey(seed=5, visits=4)
    kwargs: dict[str, Any] = {"times": data.times, "windows": (0.0, 5.0), "n_folds": 4, "seed": 0}
    kernel = cross_validate(kernel_trainer(inner_folds=3), data.matrix, data.labels, data.groups, **kwargs)
    knn = cross_validate(fixed_trainer(plain_knn), data.matrix, data.labels, data.groups, **kwargs)
    per_scan = cell_metrics(data.labels, kernel.predictions[0.0])
    windowed = cell_metrics(data.labels, kernel.predictions[5.0])
    assert per_scan["mean_cell_error"] < 1.0
    assert windowed["mean_cell_error"] <= per_scan["mean_cell_error"]
    assert per_scan["mean_cell_error"] < cell_metrics(data.labels, knn.predictions[0.0])["mean_cell_error"]
    assert len(kernel.models) == 4


def test_tracking_needs_no_groups_and_beats_single_scans() -> None:
    data = survey(seed=6, visits=4, noise_db=4.0)
    cv = cross_validate(
        kernel_trainer(inner_folds=3, motions=(MotionModel(),)),
        data.matrix,
        data.labels,
        data.groups,
        times=data.times,
        n_folds=4,
        tracking=True,
    )
    assert cv.tracked is not None and len(cv.tracked) == len(data.labels)
    assert all(isinstance(model, KernelFingerprint) and model.motion == MotionModel() for model in cv.models)
    tracked = cell_metrics(data.labels, cv.tracked)["mean_cell_error"]
    assert tracked < cell_metrics(data.labels, cv.predictions[0.0])["mean_cell_error"]
    without_times = cross_validate(
        fixed_trainer(KernelFingerprint), data.matrix, data.labels, data.groups, n_folds=4, tracking=True
    )
    assert without_times.tracked is None


def test_the_motion_model_is_chosen_on_the_training_part_only() -> None:
    data = survey(seed=7, visits=4)
    seen: list[int] = []
    slow, frantic = MotionModel(dwell_s=60.0, speed_cells_s=0.1), MotionModel(dwell_s=0.5, speed_cells_s=5.0)
    params = KernelParams()
    folds = out_of_fold_scores(data.matrix, data.labels, data.groups, params, n_folds=3)
    for test, _, _ in folds:
        seen.extend(test.tolist())
    assert sorted(seen) == list(range(len(data.labels)))  # every training scan scored once, out of fold
    best, table = select_motion(folds, data.labels, data.times, (frantic, slow))
    assert best == slow and table[1][1] <= table[0][1]  # visits last ~10 s: a device that stays is likelier
    model = kernel_trainer(inner_folds=3, motions=(frantic, slow))(data.matrix, data.labels, data.groups, data.times)
    assert isinstance(model, KernelFingerprint) and model.motion == slow


def test_decision_loss_is_the_cell_distance_on_a_grid_and_the_error_rate_otherwise() -> None:
    grid = np.array(["A01", "A02", "A03"])
    sure = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert decision_loss(grid, sure, np.array(["A03", "A03"])).tolist() == [2.0, 0.0]
    assert decision_loss(grid, sure, np.array(["A05", "A03"])).tolist() == [4.0, 0.0]  # cell never trained
    named = np.array(["dairy", "till"])
    assert decision_loss(named, np.array([[0.9, 0.1]]), np.array(["till"])).tolist() == [1.0]
