"""Cross-validation groups for walk-through data: one group per visit to a cell.

Consecutive scans at one spot (UCI: 1–3 s apart, about 5 per stop) are near-duplicates: same beacons heard,
RSSI within a dB or two. If a stop is split between training and test folds, the test scan's twin is in the
training set and any nearest-neighbour model looks far better than it is on a new day. So every scan of a
cell joins the group of the previous scan *of the same cell* when it came less than ``max_gap_s`` later;
a visit interrupted by a scan at a neighbouring cell and resumed a minute later stays one group.

On the UCI data a cell is revisited either within 30 minutes (the surveyor came back the same session) or
after two weeks or more (another survey day), so any gap from 30 minutes to a week gives the same 246 groups,
which are exactly the (cell, survey day) pairs. Shorter gaps would split a session's revisits into groups
that can leak into each other. Scans at *different* cells taken seconds apart do end up in different folds; that
does not leak a label, it only makes the task harder (the neighbour's fingerprint is nearly the same).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
DEFAULT_MAX_GAP_S = 3600.0


def visit_groups(labels: npt.ArrayLike, times: npt.ArrayLike, max_gap_s: float = DEFAULT_MAX_GAP_S) -> IntArray:
    """Group id per scan: a new group whenever a cell is seen again after more than ``max_gap_s`` seconds."""
    label_array = np.asarray(labels, dtype=str)
    seconds = np.asarray(times, dtype=np.float64)
    if label_array.shape != seconds.shape:
        raise ValueError("labels and times must have the same length")
    groups = np.empty(len(label_array), dtype=np.int64)
    next_group = 0
    for label in np.unique(label_array):
        rows = np.flatnonzero(label_array == label)
        rows = rows[np.argsort(seconds[rows], kind="stable")]
        gaps = np.diff(seconds[rows], prepend=-np.inf)
        starts = np.cumsum(gaps > max_gap_s)
        groups[rows] = next_group + starts - 1
        next_group += int(starts[-1])
    return groups


def grouped_folds(groups: npt.ArrayLike, n_folds: int, seed: int) -> list[tuple[IntArray, IntArray]]:
    """Shuffled group k-fold: every group lies wholly in one test fold; ``seed`` fixes the assignment."""
    from sklearn.model_selection import GroupKFold

    group_array = np.asarray(groups)
    n_groups = len(np.unique(group_array))
    if n_groups < n_folds:
        raise ValueError(f"{n_groups} group(s) cannot fill {n_folds} folds: record more visits or use fewer folds")
    splitter = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [
        (train.astype(np.int64), test.astype(np.int64))
        for train, test in splitter.split(np.zeros(len(group_array)), groups=group_array)
    ]
