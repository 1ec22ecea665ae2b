"""Grouped cross-validation of zone models, with the kernel model's parameters chosen inside each fold.

The outer folds only ever score; every choice (the kernel parameters, then the tracker's motion model) is made
by an inner grouped CV on the outer training part, so the reported numbers never saw their test fold.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

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
from tradeoff.presence.model.evidence import MOTION_GRID, MotionModel, accumulate, decide, posterior, track
from tradeoff.presence.model.features import FloatArray
from tradeoff.presence.model.grouping import grouped_folds
from tradeoff.presence.model.layout import Layout

StrArray = npt.NDArray[np.str_]
IntArray = npt.NDArray[np.int64]


class Trainer(Protocol):
    """Fit on (scans, labels, groups[, times]) of a training part → a fitted model."""

    def __call__(
        self, matrix: FloatArray, labels: StrArray, groups: IntArray, times: FloatArray | None = None
    ) -> ZoneModel: ...


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


def out_of_fold_scores(
    matrix: FloatArray,
    labels: StrArray,
    groups: IntArray,
    params: KernelParams,
    *,
    n_folds: int = 5,
    seed: int = 0,
) -> list[tuple[IntArray, StrArray, FloatArray]]:
    """(test rows, classes, per-scan log scores) of each grouped fold, for a kernel model with ``params``."""
    folds = []
    for train, test in grouped_folds(groups, n_folds, seed):
        model = KernelFingerprint(params).fit(matrix[train], labels[train])
        folds.append((test, model.classes_, model.log_scores(matrix[test])))
    return folds


def decision_loss(classes: StrArray, probabilities: FloatArray, truth: StrArray) -> FloatArray:
    """Per-scan loss of the decision the evaluation reports: cell distance on a grid, else 0/1 error.

    A true cell absent from ``classes`` (no training scan) still costs its grid distance to the chosen one.
    """
    distances = distances_for(list(classes))
    chosen = decide(probabilities, distances)
    predicted = classes[chosen]
    if distances is None:
        return np.asarray(predicted != truth, dtype=np.float64)
    layout = Layout.from_labels(list(classes))
    true_layout = Layout.from_labels(list(truth))
    if layout is None or true_layout is None:
        return np.asarray(predicted != truth, dtype=np.float64)
    return np.asarray(np.sqrt(((layout.xy[chosen] - true_layout.xy) ** 2).sum(axis=1)), dtype=np.float64)


def select_motion(
    folds: Sequence[tuple[IntArray, StrArray, FloatArray]],
    labels: StrArray,
    times: FloatArray,
    grid: Sequence[MotionModel] = MOTION_GRID,
) -> tuple[MotionModel, list[tuple[MotionModel, float]]]:
    """Pick the tracker's motion model by the loss of its decisions on held-out folds (``decision_loss``).

    Each fold's held-out scans are tracked as one device stream in time order, as the outer evaluation does.
    The decision's own loss rather than log loss: the motion model only reshapes the belief the decision reads,
    and on the UCI data (inner CV, 5 seeds) it picked motion models with a lower outer mean error.
    """
    losses = np.zeros(len(grid))
    total = sum(len(test) for test, _, _ in folds)
    for test, classes, scores in folds:
        distances = distances_for(list(classes))
        for row, motion in enumerate(grid):
            tracked = track(scores, times[test], None, distances, motion)
            losses[row] += decision_loss(classes, posterior(tracked), labels[test]).sum()
    table = [(motion, float(loss / max(total, 1))) for motion, loss in zip(grid, losses, strict=True)]
    return min(table, key=lambda item: item[1])[0], table


def kernel_trainer(*, inner_folds: int = 5, seed: int = 0, motions: Sequence[MotionModel] = MOTION_GRID) -> Trainer:
    """Kernel parameters by inner grouped CV; with times, then the motion model on the same inner folds."""

    def train(matrix: FloatArray, labels: StrArray, groups: IntArray, times: FloatArray | None = None) -> ZoneModel:
        params, table = select_kernel_params(matrix, labels, groups, n_folds=inner_folds, seed=seed)
        model = KernelFingerprint(params)
        if times is not None and table and len(motions) > 1:
            folds = out_of_fold_scores(matrix, labels, groups, params, n_folds=inner_folds, seed=seed)
            model.motion, _ = select_motion(folds, labels, np.asarray(times, dtype=np.float64), motions)
        elif len(motions) == 1:
            model.motion = motions[0]
        return model.fit(matrix, labels)

    return train


def fixed_trainer(make: Callable[[], ZoneModel]) -> Trainer:
    def train(matrix: FloatArray, labels: StrArray, groups: IntArray, times: FloatArray | None = None) -> ZoneModel:
        return make().fit(matrix, labels)

    return train


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold predictions for each evidence window (0 = one scan at a time), and of the tracker."""

    predictions: dict[float, StrArray]
    models: list[ZoneModel]
    tracked: StrArray | None = None
    """With ``tracking``: each test fold's scans run through the forward filter as one device per stream."""


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
    tracking: bool = False,
    streams: npt.ArrayLike | None = None,
) -> CrossValidation:
    """Out-of-fold predictions; the trainer sees only the training part (and its times, for its own inner CV).

    ``tracking`` (needs ``times``) also runs each test fold through ``evidence.track``: per stream (a device;
    default: the whole fold is one device) in time order, with the model's ``motion`` (default
    ``MotionModel()``). Unlike the windows it never reads the groups, so it is not told when the device moved.
    """
    label_array = np.asarray(labels, dtype=str)
    group_array = np.unique(np.asarray(groups), return_inverse=True)[1].astype(np.int64)
    seconds = np.zeros(len(label_array)) if times is None else np.asarray(times, dtype=np.float64)
    stream_array = None if streams is None else np.asarray(streams)
    predictions = {window: np.empty(len(label_array), dtype=object) for window in windows}
    tracked = np.empty(len(label_array), dtype=object) if tracking and times is not None else None
    models = []
    for train, test in grouped_folds(group_array, n_folds, seed):
        model = trainer(
            matrix[train], label_array[train], group_array[train], None if times is None else seconds[train]
        )
        models.append(model)
        scores = model.log_scores(matrix[test])
        for window in windows:
            combined = accumulate(scores, seconds[test], group_array[test], window)
            predictions[window][test] = predict_labels(model, combined)
        if tracked is not None:
            motion = getattr(model, "motion", None) or MotionModel()
            distances = distances_for(list(model.classes_))
            filtered = track(
                scores, seconds[test], None if stream_array is None else stream_array[test], distances, motion
            )
            tracked[test] = predict_labels(model, filtered)
    return CrossValidation(
        {w: p.astype(str) for w, p in predictions.items()}, models, None if tracked is None else tracked.astype(str)
    )
