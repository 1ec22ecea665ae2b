"""Rates, latency percentiles and ratios: the numbers a benchmark reports."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rate(count: int, seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("a rate needs a positive duration")
    return count / seconds


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else 0.0


def millis(seconds: float) -> float:
    return round(seconds * 1000, 2)


def commit_times(commits: Sequence[tuple[float, int]], seqs: Sequence[int]) -> list[float]:
    """When each ``seq`` became durable, given ``(time, max_seq)`` per commit in commit order.

    Appends are serialized, so seq order is commit order: ``seq`` was committed by the first commit
    whose max seq reaches it.
    """
    tops = [top for _, top in commits]
    if any(a > b for a, b in zip(tops, tops[1:], strict=False)):
        raise ValueError("commits must be in seq order")
    out = []
    for seq in seqs:
        position = bisect.bisect_left(tops, seq)
        if position == len(tops):
            raise ValueError(f"seq {seq} is after the last recorded commit")
        out.append(commits[position][0])
    return out
