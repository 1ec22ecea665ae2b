"""Fakes for simulator tests: a controllable real-time source and a recording sender."""

from __future__ import annotations

from collections.abc import Sequence

from tradeoff.sim.base import EventDict
from tradeoff.sim.transports import SenderStats, TransportName


class FakeTime:
    """``monotonic`` and ``sleep`` for a SimClock: sleeping advances time instantly."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


class RecordingSender:
    def __init__(self, name: TransportName) -> None:
        self.name: TransportName = name
        self.stats = SenderStats()
        self.batches: list[list[EventDict]] = []
        self.closed = False

    def send(self, events: Sequence[EventDict]) -> None:
        self.batches.append(list(events))
        self.stats.attempted += len(events)
        self.stats.delivered += len(events)

    def close(self) -> None:
        self.closed = True

    @property
    def events(self) -> list[EventDict]:
        return [event for batch in self.batches for event in batch]
