"""From per-scan class scores to a position: evidence over a short window or a tracker, posterior, decision.

A device that stays put for a few seconds yields several independent scans; their log scores add up (a
Bayes filter with a "did not move" transition, ``accumulate``). The window is causal and per group, so it
uses only what the live pipeline would have seen at that moment, but it is told which scans share a spot.

``track`` is the live tracker: a forward filter (HMM over the classes) through every scan of one device in
time order, with a ``MotionModel`` for what may happen between two scans (stay, drift to nearby cells, the
longer the gap the further). It is never told when the device moved; it only uses past readings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tradeoff.presence.model.features import FloatArray

IntArray = npt.NDArray[np.int64]


def accumulate(log_scores: FloatArray, times: npt.ArrayLike, groups: npt.ArrayLike, window_s: float) -> FloatArray:
    """Sum each scan's log scores with those of the same group in (t − window_s, t]; window 0 = per scan."""
    if window_s <= 0:
        return log_scores.copy()
    seconds = np.asarray(times, dtype=np.float64)
    group_codes = np.unique(np.asarray(groups), return_inverse=True)[1]
    out = np.empty_like(log_scores)
    for code in np.unique(group_codes):
        rows = np.flatnonzero(group_codes == code)
        rows = rows[np.argsort(seconds[rows], kind="stable")]
        t = seconds[rows]
        cumulative = np.vstack([np.zeros(log_scores.shape[1]), np.cumsum(log_scores[rows], axis=0)])
        # Ties at the same second all count as seen: the end of the window is the last row with time ≤ t.
        end = np.searchsorted(t, t, side="right")
        start = np.searchsorted(t, t - window_s, side="right")
        out[rows] = cumulative[end] - cumulative[start]
    return out


def posterior(log_scores: FloatArray) -> FloatArray:
    shifted = log_scores - log_scores.max(axis=1, keepdims=True)
    weights = np.exp(shifted)
    return np.asarray(weights / weights.sum(axis=1, keepdims=True), dtype=np.float64)


def decide(probabilities: FloatArray, distances: FloatArray | None = None) -> IntArray:
    """Arg-max class, or with a layout the cell with the least expected distance to the true one.

    The second is the Bayes decision for the mean position error: between two equally likely far-apart cells
    it picks the one in between rather than gambling on either.
    """
    if distances is None:
        return np.asarray(probabilities.argmax(axis=1), dtype=np.int64)
    return np.asarray((probabilities @ distances).argmin(axis=1), dtype=np.int64)


@dataclass(frozen=True)
class MotionModel:
    """How a device moves between two scans ``dt`` seconds apart: the tracker's transition model.

    It stays in its cell with probability exp(−dt / ``dwell_s``); otherwise it has moved to a cell around the
    old one, Gaussian over the grid distance with σ = 1 + ``speed_cells_s`` · dt cells (after a long gap that is
    about uniform); ``reset`` is a small chance of being anywhere, so a wrong belief can always be left. Without
    a grid a move lands on any class with equal probability.
    """

    dwell_s: float = 20.0
    speed_cells_s: float = 0.3
    reset: float = 1e-3


#: The motion models the inner CV chooses from (dwell 5 s … 80 s, drift 0.1 … 1 cell per second once moving).
MOTION_GRID: tuple[MotionModel, ...] = tuple(
    MotionModel(dwell_s=dwell, speed_cells_s=speed)
    for dwell in (5.0, 10.0, 20.0, 40.0, 80.0)
    for speed in (0.1, 0.3, 1.0)
)


#: Transition kernels kept per layout (one n × n matrix per distinct gap; cleared beyond this).
_CACHE_LIMIT = 512


class _Transitions:
    """``p ↦ p · T(dt)`` for one class layout, caching the move kernel per rounded gap."""

    def __init__(self, distances: FloatArray | None, n_classes: int, motion: MotionModel) -> None:
        self.distances, self.n, self.motion = distances, n_classes, motion
        self.flat_sigma = np.inf if distances is None else 5.0 * max(float(distances.max()), 1.0)
        self.cache: dict[float, FloatArray] = {}

    def _move(self, dt: float) -> FloatArray | None:
        """Row-stochastic move kernel, or ``None`` for a uniform one (no grid, or spread past the whole grid)."""
        key = round(dt, 1) if dt < 10 else float(round(dt))
        sigma = 1.0 + self.motion.speed_cells_s * key
        if self.distances is None or sigma >= self.flat_sigma:
            return None
        if key not in self.cache:
            if len(self.cache) >= _CACHE_LIMIT:
                self.cache.clear()
            weights = np.exp(-0.5 * (self.distances / sigma) ** 2)
            self.cache[key] = weights / weights.sum(axis=1, keepdims=True)
        return self.cache[key]

    def predict(self, belief: FloatArray, dt: float) -> FloatArray:
        stay = float(np.exp(-max(dt, 0.0) / self.motion.dwell_s))
        move = self._move(max(dt, 0.0))
        moved = np.full(self.n, 1.0 / self.n) if move is None else belief @ move
        predicted = stay * belief + (1.0 - stay) * moved
        return np.asarray((1.0 - self.motion.reset) * predicted + self.motion.reset / self.n, dtype=np.float64)


def track(
    log_scores: FloatArray,
    times: npt.ArrayLike,
    streams: npt.ArrayLike | None,
    distances: FloatArray | None,
    motion: MotionModel,
) -> FloatArray:
    """Causal forward filter (HMM) over each stream's scans in time order: log of the filtered posterior.

    A stream is one device (in a walk-through: the surveyor's phone). Each scan's posterior uses that scan and
    the earlier ones only, through ``motion``; nothing tells the filter when or where the device moved.
    """
    seconds = np.asarray(times, dtype=np.float64)
    n_classes = log_scores.shape[1]
    stream_codes = (
        np.zeros(len(seconds), dtype=np.int64)
        if streams is None
        else np.unique(np.asarray(streams), return_inverse=True)[1]
    )
    transitions = _Transitions(distances, n_classes, motion)
    out = np.empty_like(log_scores)
    likelihoods = np.exp(log_scores - log_scores.max(axis=1, keepdims=True))
    for code in np.unique(stream_codes):
        rows = np.flatnonzero(stream_codes == code)
        rows = rows[np.argsort(seconds[rows], kind="stable")]
        belief = np.full(n_classes, 1.0 / n_classes)
        previous: float | None = None
        for row in rows:
            if previous is not None:
                belief = transitions.predict(belief, seconds[row] - previous)
            belief = belief * likelihoods[row]
            belief /= belief.sum()
            out[row] = np.log(np.maximum(belief, 1e-300))
            previous = seconds[row]
    return out
