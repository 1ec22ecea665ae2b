"""Grouped cross-validation of zone models, with the kernel model's parameters chosen inside each fold.

The outer folds only ever score; every choice (the kernel parameters) is made by an inner grouped CV on the
outer training part, so the reported numbers never saw their test fold.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradeoff.presence.model.estimator import (
    KernelFingerprint,
    KernelParams,
    ZoneModel,
    beacon_scales,
    encode,
    kernel_log_scores,
    pair_terms,
)
from tradeoff.presence.model.evidence import accumulate, decide, posterior
from tradeoff.presence.model.features import FloatArray
from tradeoff.presence.model.grouping import grouped_folds
from tradeoff.presence.model.layout import Layout

StrArray = npt.NDArray[np.str_]
#: Fit on (scans, labels, groups) of a training part → a fitted model.
Trainer = Callable[[FloatArray, StrArray, npt.NDArray[np.int64]], ZoneModel]

KERNEL_GRID: tuple[KernelParams, ...] = tuple(
    KernelParams(bandwidth_db=h, mismatch=m, count_power=a, spatial_cells=s)
    for h, m, a, s in itertools.product((0.75, 1.5, 3.0), (8.0, 16.0, 32.0), (1.0, 1.5), (0.0, 0.4))
)


def distances_for(classes: Sequence[str]) -> FloatArray | None:
    layout = Layout.from_labels(list(classes))
    return None if layout is None else layout.distances()


def predict_labels(model: ZoneModel, log_scores: FloatArray) -> StrArray:
    chosen = decide(posterior(log_scores), distances_for(list(model.classes_)))
    return np.asarray(model.classes_[chosen], dtype=str)


_CHUNK = 512
#: Probability charged to a true class the model gives (almost) nothing, e.g. a cell absent from training.
LOG_LOSS_FLOOR = 1e-4


def log_loss(classes: StrArray, probabilities: FloatArray, truth: StrArray) -> FloatArray:
    """Per-scan −log P(true class), floored: a proper score, so it rewards honest probabilities."""
    index = np.minimum(np.searchsorted(classes, truth), len(classes) - 1)
    known = classes[index] == truth
    picked = np.where(known, probabilities[np.arange(len(truth)), index], 0.0)
    return np.asarray(-np.log(np.maximum(picked, LOG_LOSS_FLOOR)), dtype=np.float64)


def select_kernel_params(
    matrix: FloatArray,
    labels: StrArray,
    groups: npt.NDArray[np.int64],
    *,
    n_folds: int = 5,
    seed: int = 0,
    grid: Sequence[KernelParams] = KERNEL_GRID,
) -> tuple[KernelParams, list[tuple[KernelParams, float]]]:
    """Pick the kernel parameters by grouped CV log loss; defaults when there are too few groups.

    Log loss rather than accuracy or mean error: the per-scan probabilities are what gets added up over a
    window and what both decisions (arg-max, least expected distance) read, so they must be calibrated.
    """
    if len(np.unique(groups)) < n_folds:
        return KernelParams(), []
    losses = np.zeros(len(grid))
    for train, test in grouped_folds(groups, n_folds, seed):
        classes, codes = encode(labels[train])
        order = np.argsort(codes, kind="stable")
        train, codes = train[order], codes[order]
        scales = beacon_scales(matrix[train], codes)
        distances = distances_for(list(classes))
        for start in range(0, len(test), _CHUNK):  # bounded memory on a big walk-through
            part = test[start : start + _CHUNK]
            squared, one_sided = pair_terms(matrix[part], matrix[train], scales)
            for row, params in enumerate(grid):
                scores = kernel_log_scores(squared, one_sided, codes, len(classes), params, distances)
                losses[row] += log_loss(classes, posterior(scores), labels[part]).sum()
    table = [(params, float(loss / len(labels))) for params, loss in zip(grid, losses, strict=True)]
    best = min(table, key=lambda item: item[1])[0]
    return best, table


def kernel_trainer(*, inner_folds: int = 5, seed: int = 0) -> Trainer:
    def train(matrix: FloatArray, labels: StrArray, groups: npt.NDArray[np.int64]) -> ZoneModel:
        params, _ = select_kernel_params(matrix, labels, groups, n_folds=inner_folds, seed=seed)
        return KernelFingerprint(params).fit(matrix, labels)

    return train


def fixed_trainer(make: Callable[[], ZoneModel]) -> Trainer:
    return lambda matrix, labels, _groups: make().fit(matrix, labels)


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold predictions for each evidence window (0 = one scan at a time)."""

    predictions: dict[float, StrArray]
    models: list[ZoneModel]


def cross_validate(
    trainer: Trainer,
    matrix: FloatArray,
    labels: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    times: npt.ArrayLike | None = None,
    windows: Sequence[float] = (0.0,),
    n_folds: int = 5,
    seed: int = 0,
) -> CrossValidation:
    label_array = np.asarray(labels, dtype=str)
    group_array = np.unique(np.asarray(groups), return_inverse=True)[1].astype(np.int64)
    seconds = np.zeros(len(label_array)) if times is None else np.asarray(times, dtype=np.float64)
    predictions = {window: np.empty(len(label_array), dtype=object) for window in windows}
    models = []
    for train, test in grouped_folds(group_array, n_folds, seed):
        model = trainer(matrix[train], label_array[train], group_array[train])
        models.append(model)
        scores = model.log_scores(matrix[test])
        for window in windows:
            combined = accumulate(scores, seconds[test], group_array[test], window)
            predictions[window][test] = predict_labels(model, combined)
    return CrossValidation({w: p.astype(str) for w, p in predictions.items()}, models)
