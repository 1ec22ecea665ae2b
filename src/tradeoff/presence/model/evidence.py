"""From per-scan class scores to a position: evidence over a short window, posterior, decision.

A device that stays put for a few seconds yields several independent scans; their log scores add up (a
Bayes filter with a "did not move" transition). The window is causal and per device (group), so it uses
only what the live pipeline would have seen at that moment.
"""

from __future__ import annotations

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
