"""Pure core of the release guard: bound each subject's contribution, count, add noise, suppress.

The rule every release obeys (``docs/privacy-audit-and-release.md``): a cell is published only when
(1) at least ``k`` distinct subjects contribute to it after contribution bounding (its TRUE count), and
(2) its noisy count is at least the noisy floor — ``k`` when the group keys are public, and the OpenDP
threshold τ ≥ k (chosen for δ) when the keys come from the data. Anything else is suppressed, so no
published number is ever computed from fewer than ``k`` subjects.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from tradeoff.privacy.release.noise import laplace_scale, noisy_vector, threshold_mechanism

GroupKey = str | int | tuple[str | int, ...]


class Statistic(StrEnum):
    SUBJECTS = "subjects"  # distinct subjects per group; a subject counts in at most c groups
    CONTRIBUTIONS = "contributions"  # rows per group; a subject contributes at most c rows in total
    SUM = "sum"  # clamped values per group (with a distinct-subject count); at most c rows per subject


@dataclass
class Aggregates:
    """Per-group aggregates of the bounded data (nothing noisy yet)."""

    values: dict[GroupKey, int] = field(default_factory=dict)  # what gets noise: count or clamped sum
    subjects: dict[GroupKey, int] = field(default_factory=dict)  # TRUE distinct subjects after bounding
    dropped: int = 0  # contributions removed by the per-subject bound
    subjects_seen: int = 0


@dataclass(frozen=True, slots=True)
class Cell:
    key: GroupKey
    value: int  # noisy count (always ≥ the floor) or noisy sum
    count: int | None = None  # sums only: the noisy distinct-subject count (≥ the floor)


@dataclass(frozen=True, slots=True)
class CellRelease:
    cells: tuple[Cell, ...]
    suppressed: tuple[GroupKey, ...]  # only when the keys are public; data-derived keys are never named
    noise_scale: float  # of the released values
    count_scale: float  # of the counts that decide suppression
    threshold: int  # the noisy floor applied
    delta: float  # 0 when the keys are public


def _check_key(key: object) -> GroupKey:
    if isinstance(key, bool):
        raise TypeError("group keys are str, int or tuples of them")
    if isinstance(key, str | int):
        return key
    if isinstance(key, tuple | list) and all(isinstance(p, str | int) and not isinstance(p, bool) for p in key):
        return tuple(key)
    raise TypeError(f"group keys are str, int or tuples of them, not {type(key).__name__}")


def aggregate_counts(
    rows: Iterable[tuple[Hashable, GroupKey]],
    *,
    statistic: Statistic,
    max_contributions: int,
    rng: random.Random,
) -> Aggregates:
    """Bound contributions (a uniform random choice among each subject's rows or groups) and count."""
    if max_contributions < 1:
        raise ValueError("max_contributions must be at least 1")
    per_subject: dict[Hashable, list[GroupKey]] = {}
    for subject, key in rows:
        per_subject.setdefault(subject, []).append(_check_key(key))
    result = Aggregates(subjects_seen=len(per_subject))
    for keys in per_subject.values():
        if statistic is Statistic.SUBJECTS:
            keys = list(dict.fromkeys(keys))  # distinct groups, first-seen order
        if len(keys) > max_contributions:
            result.dropped += len(keys) - max_contributions
            keys = rng.sample(keys, max_contributions)
        for key in keys:
            result.values[key] = result.values.get(key, 0) + 1
        for key in set(keys):
            result.subjects[key] = result.subjects.get(key, 0) + 1
    return result


def aggregate_sums(
    rows: Iterable[tuple[Hashable, GroupKey, int]],
    *,
    bounds: tuple[int, int],
    max_contributions: int,
    rng: random.Random,
) -> Aggregates:
    """Clamp each value into ``bounds``, keep at most ``max_contributions`` rows per subject, sum per group."""
    low, high = bounds
    if low > high:
        raise ValueError("bounds must be (low, high) with low ≤ high")
    if max_contributions < 1:
        raise ValueError("max_contributions must be at least 1")
    per_subject: dict[Hashable, list[tuple[GroupKey, int]]] = {}
    for subject, key, value in rows:
        per_subject.setdefault(subject, []).append((_check_key(key), min(max(int(value), low), high)))
    result = Aggregates(subjects_seen=len(per_subject))
    for items in per_subject.values():
        if len(items) > max_contributions:
            result.dropped += len(items) - max_contributions
            items = rng.sample(items, max_contributions)
        for key, value in items:
            result.values[key] = result.values.get(key, 0) + value
        for key in {key for key, _ in items}:
            result.subjects[key] = result.subjects.get(key, 0) + 1
    return result


def count_sensitivity(statistic: Statistic, max_contributions: int) -> tuple[int, int, int]:
    """``(l0, l1, linf)``: groups one subject touches, its total and its largest per-group effect."""
    c = max_contributions
    if statistic is Statistic.CONTRIBUTIONS:
        return c, c, c
    return c, c, 1  # distinct subjects (also the subject count of a sum)


def release_counts(
    aggregates: Aggregates,
    *,
    statistic: Statistic,
    epsilon: float,
    max_contributions: int,
    min_group_size: int,
    groups: Sequence[GroupKey] | None,
    delta: float,
) -> CellRelease:
    """Noisy counts per group, suppressed below the floors; ε-DP for public ``groups``, (ε, δ) otherwise."""
    if statistic is Statistic.SUM:
        raise ValueError("use release_sums for sums")
    l0, l1, linf = count_sensitivity(statistic, max_contributions)
    noisy, suppressed, scale, threshold, spent_delta = _noisy_counts(
        aggregates, l0=l0, l1=l1, linf=linf, epsilon=epsilon, k=min_group_size, groups=groups, delta=delta
    )
    cells = tuple(Cell(key, value) for key, value in noisy.items())
    return CellRelease(cells, suppressed, scale, scale, threshold, spent_delta)


def release_sums(
    aggregates: Aggregates,
    *,
    epsilon: float,
    bounds: tuple[int, int],
    max_contributions: int,
    min_group_size: int,
    groups: Sequence[GroupKey] | None,
    delta: float,
) -> CellRelease:
    """Half of ε for a noisy distinct-subject count (which decides suppression, as for counts), half for
    the noisy clamped sums of the cells that survive (Δ₁ = c · max(|low|, |high|))."""
    c = max_contributions
    counts_only = Aggregates(values=dict(aggregates.subjects), subjects=aggregates.subjects)
    noisy_counts, suppressed, count_scale, threshold, spent_delta = _noisy_counts(
        counts_only, l0=c, l1=c, linf=1, epsilon=epsilon / 2, k=min_group_size, groups=groups, delta=delta
    )
    keys = list(noisy_counts)  # a DP output: public from here on
    sensitivity = c * max(abs(bounds[0]), abs(bounds[1]), 1)
    sums = noisy_vector([aggregates.values.get(k, 0) for k in keys], sensitivity=sensitivity, epsilon=epsilon / 2)
    cells = tuple(Cell(key, value, noisy_counts[key]) for key, value in zip(keys, sums, strict=True))
    sum_scale = laplace_scale(sensitivity=sensitivity, epsilon=epsilon / 2)
    return CellRelease(cells, suppressed, sum_scale, count_scale, threshold, spent_delta)


def _noisy_counts(
    aggregates: Aggregates,
    *,
    l0: int,
    l1: int,
    linf: int,
    epsilon: float,
    k: int,
    groups: Sequence[GroupKey] | None,
    delta: float,
) -> tuple[dict[GroupKey, int], tuple[GroupKey, ...], float, int, float]:
    """Released ``key → noisy count``, suppressed public keys, scale, noisy floor and δ spent."""
    if k < 1:
        raise ValueError("min_group_size must be at least 1")
    if groups is not None:
        keys = list(dict.fromkeys(_check_key(g) for g in groups))
        noisy = noisy_vector([aggregates.values.get(key, 0) for key in keys], sensitivity=l1, epsilon=epsilon)
        released: dict[GroupKey, int] = {}
        suppressed: list[GroupKey] = []
        for key, value in zip(keys, noisy, strict=True):
            if aggregates.subjects.get(key, 0) >= k and value >= k:
                released[key] = value
            else:
                suppressed.append(key)
        return released, tuple(suppressed), laplace_scale(sensitivity=l1, epsilon=epsilon), k, 0.0
    mechanism = threshold_mechanism(l0=l0, l1=l1, linf=linf, epsilon=epsilon, delta=delta, min_threshold=k)
    keys = list(aggregates.values)
    by_index = mechanism.release({str(i): aggregates.values[key] for i, key in enumerate(keys)})
    released = {}
    for index in sorted(by_index, key=int):
        key = keys[int(index)]
        value = by_index[index]
        if aggregates.subjects.get(key, 0) >= k and value >= mechanism.threshold:
            released[key] = value
    return released, (), mechanism.scale, mechanism.threshold, mechanism.loss()[1]
