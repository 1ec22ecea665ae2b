"""Unicity of row-level traces (de Montjoye et al.): how many subjects p known points pin down.

ε_p = the fraction of subjects for whom p points drawn at random from their own trace match no other
subject's trace. Four (shop, day) points re-identify 90 % of card holders in raw card data, so a
row-level export is refused when ε₄ > 1 %.

The index maps each point to the set of subjects whose trace holds it; a subject's candidates are the
intersection of the sets of its p points, smallest first, stopping as soon as only the subject is left.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tradeoff.core.errors import Forbidden

DEFAULT_POINTS = 4
DEFAULT_MAX_UNICITY = 0.01

Point = Hashable  # e.g. (zone, hour)


@dataclass(frozen=True, slots=True)
class UnicityReport:
    unicity: float  # fraction of sampled (subject, trial) draws that were unique
    subjects: int  # subjects in the export
    tested: int  # subjects whose uniqueness was tested
    points: int
    trials: int
    threshold: float

    @property
    def passed(self) -> bool:
        return self.unicity <= self.threshold


class ExportRefused(Forbidden):
    """A row-level export that would re-identify too many subjects."""

    code = "export_refused"

    def __init__(self, report: UnicityReport, *, export_name: str = "") -> None:
        name = f" {export_name!r}" if export_name else ""
        super().__init__(
            f"row-level export{name} refused: {report.unicity:.1%} of subjects are unique given {report.points} "
            f"random points (limit {report.threshold:.1%}); release aggregates instead",
            details={
                "unicity": report.unicity,
                "points": report.points,
                "threshold": report.threshold,
                "subjects": report.subjects,
            },
        )
        self.report = report


def unicity(
    traces: Mapping[Hashable, Iterable[Point]],
    *,
    points: int = DEFAULT_POINTS,
    trials: int = 1,
    seed: int | None = None,
    max_subjects: int | None = None,
) -> float:
    """ε_p of ``traces`` (see ``measure`` for the parameters)."""
    return measure(traces, points=points, trials=trials, seed=seed, max_subjects=max_subjects).unicity


def measure(
    traces: Mapping[Hashable, Iterable[Point]],
    *,
    points: int = DEFAULT_POINTS,
    trials: int = 1,
    seed: int | None = None,
    max_subjects: int | None = None,
    threshold: float = DEFAULT_MAX_UNICITY,
) -> UnicityReport:
    """Draw ``points`` distinct points from each subject's own trace (all of them when it has fewer),
    ``trials`` times, and count the draws that only that subject's trace contains. ``max_subjects``
    tests a random sample of subjects (against the index of all of them) for very large exports."""
    if points < 1 or trials < 1:
        raise ValueError("points and trials must be at least 1")
    rng = random.Random(seed)
    distinct: dict[Hashable, tuple[Point, ...]] = {}
    index: dict[Point, set[Hashable]] = {}
    for subject, trace in traces.items():
        unique_points = tuple(dict.fromkeys(trace))
        if not unique_points:
            continue
        distinct[subject] = unique_points
        for point in unique_points:
            index.setdefault(point, set()).add(subject)
    subjects = list(distinct)
    tested = subjects if max_subjects is None or max_subjects >= len(subjects) else rng.sample(subjects, max_subjects)
    unique = 0
    for subject in tested:
        trace = distinct[subject]
        for _ in range(trials):
            drawn = trace if len(trace) <= points else rng.sample(trace, points)
            if _is_unique(subject, drawn, index):
                unique += 1
    draws = len(tested) * trials
    return UnicityReport(
        unicity=unique / draws if draws else 0.0,
        subjects=len(subjects),
        tested=len(tested),
        points=points,
        trials=trials,
        threshold=threshold,
    )


def _is_unique(subject: Hashable, drawn: Sequence[Point], index: Mapping[Point, set[Hashable]]) -> bool:
    sets = sorted((index[p] for p in drawn), key=len)
    if len(sets[0]) == 1:
        return True
    candidates = set(sets[0])
    for other in sets[1:]:
        candidates &= other
        if len(candidates) == 1:
            return True
    return False


def check_row_export(
    traces: Mapping[Hashable, Iterable[Point]],
    *,
    export_name: str = "",
    points: int = DEFAULT_POINTS,
    threshold: float = DEFAULT_MAX_UNICITY,
    trials: int = 3,
    seed: int | None = None,
    max_subjects: int | None = 20_000,
) -> UnicityReport:
    """The gate for every row-level export: raises ``ExportRefused`` when ε_points > ``threshold``."""
    report = measure(traces, points=points, trials=trials, seed=seed, max_subjects=max_subjects, threshold=threshold)
    if not report.passed:
        raise ExportRefused(report, export_name=export_name)
    return report


def hour_bucket(at: datetime, *, resolution: timedelta = timedelta(hours=1)) -> datetime:
    """``at`` floored to ``resolution`` in UTC (the time half of a (zone, hour) point)."""
    utc = at.astimezone(UTC)
    seconds = int(resolution.total_seconds())
    epoch = int(utc.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def traces_from_rows(
    rows: Iterable[tuple[Hashable, Hashable, datetime]],
    *,
    resolution: timedelta = timedelta(hours=1),
    bucket: Callable[[datetime], Hashable] | None = None,
) -> dict[Hashable, list[Point]]:
    """``(subject, place, time)`` rows → ``subject → [(place, time bucket), …]`` for ``check_row_export``."""
    to_bucket = bucket or (lambda at: hour_bucket(at, resolution=resolution))
    traces: dict[Hashable, list[Point]] = {}
    for subject, place, at in rows:
        traces.setdefault(subject, []).append((place, to_bucket(at)))
    return traces
