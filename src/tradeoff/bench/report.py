"""The shape of ``tradeoff bench ingest --json``: one entry per path, next to its raw limit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tradeoff.bench.stats import millis, percentile, rate, ratio

TARGET_RATIO = 0.5


@dataclass(frozen=True, slots=True)
class ExactlyOnce:
    """How the stored event ids compare with the ids sent."""

    expected: int
    stored: int
    missing: int
    duplicated: int
    unexpected: int

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.duplicated == 0 and self.unexpected == 0


def check_exactly_once(expected: Collection[str], stored: Iterable[str]) -> ExactlyOnce:
    counts = Counter(stored)
    wanted = set(expected)
    return ExactlyOnce(
        expected=len(wanted),
        stored=sum(counts.values()),
        missing=sum(1 for event_id in wanted if event_id not in counts),
        duplicated=sum(1 for event_id, n in counts.items() if n > 1 and event_id in wanted),
        unexpected=sum(1 for event_id in counts if event_id not in wanted),
    )


@dataclass(frozen=True, slots=True)
class Measurement:
    """``events`` acknowledged over ``seconds`` of wall clock, with one latency sample per ack."""

    events: int
    seconds: float
    latencies: list[float]

    @property
    def events_per_s(self) -> float:
        return rate(self.events, self.seconds)

    def latency_ms(self, q: float) -> float:
        return millis(percentile(self.latencies, q))


def measure_deliveries(sent: Sequence[float], deliveries: Iterable[tuple[float, int]]) -> Measurement:
    """From send times by index and ``(time, index)`` deliveries (receipt or commit) to a measurement.

    Each index counts once, at its first delivery; the run lasts from the first send to the last delivery.
    """
    first: dict[int, float] = {}
    for when, index in deliveries:
        if index not in first or when < first[index]:
            first[index] = when
    if not first:
        raise ValueError("nothing was delivered")
    latencies = [when - sent[index] for index, when in first.items()]
    return Measurement(len(first), max(first.values()) - min(sent), latencies)


@dataclass(frozen=True, slots=True)
class PathResult:
    name: str
    description: str
    path: Measurement
    raw: Measurement
    raw_description: str
    exactly_once: ExactlyOnce
    target_events_per_s: float | None
    settings: dict[str, Any] = field(default_factory=dict)
    runs: list[tuple[float, float]] = field(default_factory=list)  # (path, raw) events/s of every repeat
    paced: Measurement | None = None  # latency at a steady rate well below capacity (MQTT)
    paced_rate: float | None = None

    @property
    def ratio_to_raw(self) -> float:
        return ratio(self.path.events_per_s, self.raw.events_per_s)

    @property
    def meets_target(self) -> bool:
        fast_enough = self.target_events_per_s is None or self.path.events_per_s >= self.target_events_per_s
        return fast_enough and self.ratio_to_raw >= TARGET_RATIO and self.exactly_once.ok

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "events": self.path.events,
            "seconds": round(self.path.seconds, 3),
            "events_per_s": round(self.path.events_per_s),
            "ack_p50_ms": self.path.latency_ms(50),
            "ack_p99_ms": self.path.latency_ms(99),
            "raw_description": self.raw_description,
            "raw_events_per_s": round(self.raw.events_per_s),
            "raw_ack_p50_ms": self.raw.latency_ms(50),
            "raw_ack_p99_ms": self.raw.latency_ms(99),
            "ratio_to_raw": round(self.ratio_to_raw, 3),
            "target_events_per_s": self.target_events_per_s,
            "target_ratio_to_raw": TARGET_RATIO,
            "meets_target": self.meets_target,
            "stored_exactly_once": self.exactly_once.ok,
            "stored": asdict(self.exactly_once),
            "paced": None if self.paced is None else _paced_json(self.paced, self.paced_rate),
            "runs": [{"events_per_s": round(path), "raw_events_per_s": round(raw)} for path, raw in self.runs],
            "settings": self.settings,
        }


def _paced_json(paced: Measurement, rate: float | None) -> dict[str, Any]:
    return {
        "rate_per_s": rate,
        "events": paced.events,
        "ack_p50_ms": paced.latency_ms(50),
        "ack_p99_ms": paced.latency_ms(99),
    }


def best_of(
    trials: Sequence[tuple[Measurement, Measurement, ExactlyOnce]],
) -> tuple[Measurement, Measurement, ExactlyOnce]:
    """The fastest path run and the fastest raw run (noise from other work only ever slows a run down);
    the exactly-once check of a failed run wins, so a loss is never hidden by a repeat."""
    if not trials:
        raise ValueError("no runs")
    path = max((trial[0] for trial in trials), key=lambda m: m.events_per_s)
    raw = max((trial[1] for trial in trials), key=lambda m: m.events_per_s)
    failed = [trial[2] for trial in trials if not trial[2].ok]
    return path, raw, failed[0] if failed else trials[-1][2]


def bench_report(*, date: str, machine: dict[str, Any], paths: list[PathResult]) -> dict[str, Any]:
    return {
        "bench": "ingest",
        "date": date,
        "machine": machine,
        "paths": [path.to_json() for path in paths],
        "all_targets_met": bool(paths) and all(path.meets_target for path in paths),
    }
