"""Grouped CV with the inner parameter search, on a synthetic store where the answer is known."""

import numpy as np

from tests.unit.presence.model.world import survey
from tradeoff.presence.model.estimator import KernelParams, plain_knn
from tradeoff.presence.model.evaluation import (
    cross_validate,
    fixed_trainer,
    kernel_trainer,
    log_loss,
    select_kernel_params,
)
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
    kwargs = {"times": data.times, "windows": (0.0, 5.0), "n_folds": 4, "seed": 0}
    kernel = cross_validate(kernel_trainer(inner_folds=3), data.matrix, data.labels, data.groups, **kwargs)
    knn = cross_validate(fixed_trainer(plain_knn), data.matrix, data.labels, data.groups, **kwargs)
    per_scan = cell_metrics(data.labels, kernel.predictions[0.0])
    windowed = cell_metrics(data.labels, kernel.predictions[5.0])
    assert per_scan["mean_cell_error"] < 1.0
    assert windowed["mean_cell_error"] <= per_scan["mean_cell_error"]
    assert per_scan["mean_cell_error"] < cell_metrics(data.labels, knn.predictions[0.0])["mean_cell_error"]
    assert len(kernel.models) == 4
