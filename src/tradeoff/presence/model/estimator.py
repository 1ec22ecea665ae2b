"""Zone models: the kernel fingerprint model we ship and the scikit-learn models it was compared with.

Every model gives, per scan, a log score per class (``log_scores``); the evidence of several scans of a
device that stayed put is the sum of those rows (``evidence.accumulate``). Scores are only comparable within
a row, which is all a posterior needs.

The kernel model is probabilistic fingerprinting: the likelihood of a scan at a cell is the mean of a
Gaussian kernel over that cell's calibration scans. Two scans differ by the squared dBm difference (over
``bandwidth_db``, each beacon scaled by its own spread) on beacons both heard, plus a ``mismatch`` cost per
beacon heard by only one of them, scaled by how loud it was there.
With 1.4 beacons heard per UCI scan, *which* beacons are heard carries most of the information, and a fake
floor value (kNN's -105 dBm) makes a weak beacon's absence cost as much as a strong one's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tradeoff.presence.model.evidence import MotionModel
from tradeoff.presence.model.features import FLOOR_DBM, FloatArray, clean, dense, exponential
from tradeoff.presence.model.layout import Layout

IntArray = npt.NDArray[np.int64]
#: Lowest relative likelihood one scan can give a class: one odd scan cannot veto a cell for a whole window.
SCORE_FLOOR = 1e-3
#: A one-sided beacon this many dB above the floor costs one ``mismatch`` unit.
STRENGTH_UNIT_DB = 15.0
_CHUNK = 256


class ZoneModel(Protocol):
    classes_: npt.NDArray[np.str_]

    def fit(self, matrix: FloatArray, labels: npt.ArrayLike) -> ZoneModel: ...

    def log_scores(self, matrix: FloatArray) -> FloatArray: ...


def encode(labels: npt.ArrayLike) -> tuple[npt.NDArray[np.str_], IntArray]:
    classes, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    return classes, codes.astype(np.int64)


@dataclass(frozen=True)
class KernelParams:
    """Defaults = what the grouped CV picked in most folds on the UCI data; calibration re-picks per store."""

    bandwidth_db: float = 1.5
    mismatch: float = 8.0
    count_power: float = 1.5
    """Class score = kernel sum / n_c^count_power: 0 favours cells with many calibration scans, 1 is the
    plain class likelihood (uniform prior), above 1 evens out cells calibrated with many scans."""
    spatial_cells: float = 0.4
    """Grid layouts only: blend each cell's score with its neighbours' (Gaussian, σ in cells; 0 = off), so a
    cell with few calibration scans borrows from the cells around it."""


def spatial_blend(distances: FloatArray | None, spatial_cells: float) -> FloatArray | None:
    """Row-normalised Gaussian weights between cells, or ``None`` when off or there is no grid."""
    if distances is None or spatial_cells <= 0:
        return None
    weights = np.exp(-0.5 * (distances / spatial_cells) ** 2)
    return np.asarray(weights / weights.sum(axis=1, keepdims=True), dtype=np.float64)


def strength(readings: FloatArray) -> FloatArray:
    """How loud a reading is, in units of ``STRENGTH_UNIT_DB`` above the floor (0 when not heard)."""
    return np.where(np.isnan(readings), 0.0, np.maximum(readings - FLOOR_DBM, 0.0) / STRENGTH_UNIT_DB)


def beacon_scales(matrix: FloatArray, codes: IntArray, prior_readings: float = 20.0) -> FloatArray:
    """Per-beacon factor that evens out RSSI spread at a fixed spot (pooled within-cell variance).

    Some beacons wobble by 6 dB where others wobble by 1.5 dB; a shared bandwidth would trust the wobbly
    ones too much. Beacons with few readings are shrunk toward the average spread (``prior_readings``).
    """
    sums = np.zeros(matrix.shape[1])
    counts = np.zeros(matrix.shape[1])
    for code in np.unique(codes):
        rows = matrix[codes == code]
        heard = ~np.isnan(rows)
        n = heard.sum(axis=0)
        means = np.nansum(rows, axis=0) / np.maximum(n, 1)
        centred = np.where(heard, rows - means, 0.0)
        sums += (centred**2).sum(axis=0)
        counts += np.maximum(n - 1, 0)
    overall = sums.sum() / counts.sum() if counts.sum() > 0 else 1.0
    overall = max(overall, 0.25)
    variance = (sums + prior_readings * overall) / (counts + prior_readings)
    return np.asarray(np.sqrt(overall / variance), dtype=np.float64)


def pair_terms(test: FloatArray, train: FloatArray, scales: FloatArray | None = None) -> tuple[FloatArray, FloatArray]:
    """Per pair of scans: summed squared dBm differences on beacons both heard, and the one-sided evidence.

    A beacon heard by one scan only counts by its strength there: missing a -65 dBm beacon contradicts a
    match far more than missing one at -95 dBm, which the other scan may simply not have caught.
    """
    squared = np.zeros((test.shape[0], train.shape[0]))
    one_sided = np.zeros_like(squared)
    for beacon in range(test.shape[1]):
        a, b = test[:, beacon], train[:, beacon]
        heard_a, heard_b = ~np.isnan(a), ~np.isnan(b)
        if not heard_a.any() and not heard_b.any():
            continue
        both = heard_a[:, None] & heard_b[None, :]
        diff = np.nan_to_num(a)[:, None] - np.nan_to_num(b)[None, :]
        if scales is not None:
            diff *= scales[beacon]
        squared += np.where(both, diff * diff, 0.0)
        one_sided += np.where(heard_b[None, :], 0.0, strength(a)[:, None])
        one_sided += np.where(heard_a[:, None], 0.0, strength(b)[None, :])
    return squared, one_sided


def kernel_log_scores(
    squared: FloatArray,
    one_sided: FloatArray,
    codes: IntArray,
    n_classes: int,
    params: KernelParams,
    distances: FloatArray | None = None,
) -> FloatArray:
    """Log class scores from precomputed pair terms (so a parameter grid reuses one distance pass)."""
    energy = 0.5 * (squared / params.bandwidth_db**2 + params.mismatch * one_sided)
    weights = np.exp(-(energy - energy.min(axis=1, keepdims=True)))
    if np.any(np.diff(codes) < 0):
        order = np.argsort(codes, kind="stable")
        codes, weights = codes[order], weights[:, order]
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    # Columns are grouped by class: one pass of reduceat sums each class (a class without scans stays 0).
    present = np.flatnonzero(counts)
    sums = np.zeros((weights.shape[0], n_classes))
    sums[:, present] = np.add.reduceat(weights, np.searchsorted(codes, present), axis=1)
    scores = sums / np.maximum(counts, 1.0) ** params.count_power
    blend = spatial_blend(distances, params.spatial_cells)
    if blend is not None:
        scores = scores @ blend.T
    scores /= np.maximum(scores.max(axis=1, keepdims=True), 1e-300)
    return np.asarray(np.log(scores + SCORE_FLOOR), dtype=np.float64)


@dataclass
class KernelFingerprint:
    """The shipped zone model (see the module docstring)."""

    params: KernelParams = field(default_factory=KernelParams)
    classes_: npt.NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=str))
    fingerprints: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    codes: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    scales: FloatArray = field(default_factory=lambda: np.zeros(0))
    _distances: FloatArray | None = None
    motion: MotionModel = field(default_factory=MotionModel)
    """How a tracked device moves between scans (``evidence.track``); chosen by inner CV when times are known."""

    def fit(self, matrix: FloatArray, labels: npt.ArrayLike) -> KernelFingerprint:
        self.classes_, codes = encode(labels)
        scans = clean(matrix)
        if len(codes) != len(scans) or len(codes) == 0:
            raise ValueError("need one label per scan and at least one scan")
        order = np.argsort(codes, kind="stable")  # grouped by class: what kernel_log_scores sums fastest
        self.codes, self.fingerprints = codes[order], scans[order]
        self.scales = beacon_scales(self.fingerprints, self.codes)
        layout = Layout.from_labels(list(self.classes_))
        self._distances = None if layout is None else layout.distances()
        return self

    def log_scores(self, matrix: FloatArray) -> FloatArray:
        test = clean(matrix)
        out = np.empty((test.shape[0], len(self.classes_)))
        for start in range(0, test.shape[0], _CHUNK):
            squared, one_sided = pair_terms(test[start : start + _CHUNK], self.fingerprints, self.scales)
            out[start : start + _CHUNK] = kernel_log_scores(
                squared, one_sided, self.codes, len(self.classes_), self.params, self._distances
            )
        return out


Representation = Callable[[FloatArray], FloatArray]


@dataclass
class SklearnZoneModel:
    """A scikit-learn classifier on a fixed representation; log scores are its floored log probabilities."""

    make: Callable[[], Any]
    representation: Representation = dense
    classes_: npt.NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=str))
    _model: Any = None

    def fit(self, matrix: FloatArray, labels: npt.ArrayLike) -> SklearnZoneModel:
        self.classes_, codes = encode(labels)
        self._model = self.make().fit(self.representation(clean(matrix)), codes)
        return self

    def log_scores(self, matrix: FloatArray) -> FloatArray:
        proba = np.zeros((matrix.shape[0], len(self.classes_)))
        proba[:, self._model.classes_] = self._model.predict_proba(self.representation(clean(matrix)))
        return np.asarray(np.log(proba + SCORE_FLOOR), dtype=np.float64)


def plain_knn(k: int = 5) -> SklearnZoneModel:
    """The reference: kNN, uniform votes, Euclidean on raw dBm with not heard = -105."""
    from sklearn.neighbors import KNeighborsClassifier

    return SklearnZoneModel(lambda: KNeighborsClassifier(n_neighbors=k, n_jobs=1))


def weighted_knn_exponential(k: int = 9) -> SklearnZoneModel:
    from sklearn.neighbors import KNeighborsClassifier

    return SklearnZoneModel(lambda: KNeighborsClassifier(n_neighbors=k, weights="distance", n_jobs=1), exponential)


def extra_trees(seed: int = 0, trees: int = 200) -> SklearnZoneModel:
    from sklearn.ensemble import ExtraTreesClassifier

    return SklearnZoneModel(lambda: ExtraTreesClassifier(n_estimators=trees, random_state=seed, n_jobs=1))


def random_forest(seed: int = 0, trees: int = 200) -> SklearnZoneModel:
    from sklearn.ensemble import RandomForestClassifier

    return SklearnZoneModel(lambda: RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=1))


@dataclass
class BlendZoneModel:
    """Equal-weight average of member models' per-scan posteriors (the ensemble that was tried)."""

    members: list[ZoneModel]
    classes_: npt.NDArray[np.str_] = field(default_factory=lambda: np.array([], dtype=str))

    def fit(self, matrix: FloatArray, labels: npt.ArrayLike) -> BlendZoneModel:
        self.classes_, _ = encode(labels)
        for member in self.members:
            member.fit(matrix, labels)
        return self

    def log_scores(self, matrix: FloatArray) -> FloatArray:
        total = np.zeros((matrix.shape[0], len(self.classes_)))
        for member in self.members:
            scores = member.log_scores(matrix)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            total += weights / weights.sum(axis=1, keepdims=True)
        return np.asarray(np.log(total / len(self.members) + SCORE_FLOOR), dtype=np.float64)
