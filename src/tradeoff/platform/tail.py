"""The log's recent tail as this process committed it, so in-process processors need not read it back.

The ingest pipeline hands every batch it committed here (the same values it stored, as ``Event``s with
their ``seq``). A processor runner that stands at ``seq`` takes the entries right after it from here, but
only an unbroken run ``seq + 1, seq + 2, …``: seqs are unique, so an unbroken run is exactly what the log
holds there, however other writers interleave. Anything else — a gap (another process appended, the
presence processor appended derived events, a rolled-back sequence value), an entry already evicted, a
restart — and the runner reads the log as before. Deletions (erasure) are caught by the runner counting
the stored entries of the run inside its transaction before applying it.

Entries are shared by every processor: they are read-only, like the events a processor reads itself.
They are held as runs of consecutive seqs with the set of types in each, so a processor passes a run of
types it does not want without touching its entries (every processor passes every entry).
"""

from __future__ import annotations

import threading
from bisect import bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tradeoff.core.events import Event

DEFAULT_CAPACITY = 20_000  # a few seconds of peak ingest; a processor further behind reads the log


@dataclass(slots=True)
class _Run:
    """Entries with consecutive seqs, published together, and the types among them: a runner that wants
    none of those types passes the whole run in one step instead of looking at every entry."""

    events: list[Event]
    types: frozenset[str]

    @property
    def first(self) -> int:
        return self.events[0].seq

    @property
    def last(self) -> int:
        return self.events[-1].seq


class CommittedTail:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._runs: dict[int, _Run] = {}  # by first seq
        self._firsts: list[int] = []  # the runs' first seqs, sorted
        self._held = 0
        self._lock = threading.Lock()

    def publish(self, events: Iterable[Event]) -> None:
        """Events just committed (call after the commit, never before)."""
        ordered = sorted(events, key=lambda event: event.seq)
        with self._lock:
            if ordered and ordered[-1].seq - ordered[0].seq == len(ordered) - 1:
                self._add(ordered)  # the usual commit: unique sorted seqs spanning their count are one run
            else:
                start = 0
                for index in range(1, len(ordered) + 1):
                    if index == len(ordered) or ordered[index].seq != ordered[index - 1].seq + 1:
                        self._add(ordered[start:index])
                        start = index
            while self._held > self.capacity:
                self._drop_front(self._held - self.capacity)

    def run_after(self, seq: int, *, types: Sequence[str] | None, limit: int) -> tuple[list[Event], int] | None:
        """The unbroken run of entries after ``seq``: those of ``types`` (at most ``limit``) and the last seq
        the run covers (up to the ``limit``-th wanted entry). ``None`` when ``seq + 1`` is not held."""
        wanted: list[Event] = []
        wanted_types = frozenset(types) if types is not None else None
        with self._lock:
            run = self._run_holding(seq + 1)
            if run is None:
                return None
            offset, end = seq + 1 - run.first, seq
            while run is not None:
                if wanted_types is not None and wanted_types.isdisjoint(run.types):
                    end = run.last
                else:
                    for event in run.events[offset:]:
                        end = event.seq
                        if wanted_types is None or event.type in wanted_types:
                            wanted.append(event)
                            if len(wanted) == limit:
                                return wanted, end
                run, offset = self._runs.get(end + 1), 0
        return wanted, end

    def trim(self, upto: int) -> None:
        """Forget entries every runner has passed (``seq <= upto``)."""
        with self._lock:
            while self._firsts and self._firsts[0] <= upto:
                self._drop_front(upto - self._firsts[0] + 1)

    def __len__(self) -> int:
        return self._held

    def _add(self, events: list[Event]) -> None:
        if not events or events[0].seq in self._runs:
            return  # published twice: the first copy stands
        self._runs[events[0].seq] = _Run(events, frozenset(event.type for event in events))
        insort(self._firsts, events[0].seq)
        self._held += len(events)

    def _run_holding(self, seq: int) -> _Run | None:
        index = bisect_right(self._firsts, seq) - 1
        if index < 0:
            return None
        run = self._runs[self._firsts[index]]
        return run if seq <= run.last else None

    def _drop_front(self, count: int) -> None:
        """Forget up to ``count`` entries from the lowest seqs (part of the first run, or all of it)."""
        first = self._firsts.pop(0)
        run = self._runs.pop(first)
        kept = run.events[count:]
        self._held -= len(run.events) - len(kept)
        if kept:
            self._runs[kept[0].seq] = _Run(kept, run.types)
            self._firsts.insert(0, kept[0].seq)
