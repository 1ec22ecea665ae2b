"""The log's recent tail as this process committed it, so in-process processors need not read it back.

The ingest pipeline hands every batch it committed here (the same values it stored, as ``Event``s with
their ``seq``). A processor runner that stands at ``seq`` takes the entries right after it from here, but
only an unbroken run ``seq + 1, seq + 2, …``: seqs are unique, so an unbroken run is exactly what the log
holds there, however other writers interleave. Anything else — a gap (another process appended, the
presence processor appended derived events, a rolled-back sequence value), an entry already evicted, a
restart — and the runner reads the log as before. Deletions (erasure) are caught by the runner counting
the stored entries of the run inside its transaction before applying it.

Entries are shared by every processor: they are read-only, like the events a processor reads itself.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from tradeoff.core.events import Event

DEFAULT_CAPACITY = 20_000  # a few seconds of peak ingest; a processor further behind reads the log


class CommittedTail:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        # by seq, in the order published (nearly seq order); ordered so that dropping the oldest is O(1)
        self._events: OrderedDict[int, Event] = OrderedDict()
        self._lock = threading.Lock()

    def publish(self, events: Iterable[Event]) -> None:
        """Events just committed (call after the commit, never before)."""
        with self._lock:
            held = self._events
            for event in events:
                held[event.seq] = event
            for _ in range(len(held) - self.capacity):
                held.popitem(last=False)

    def run_after(self, seq: int, *, types: Sequence[str] | None, limit: int) -> tuple[list[Event], int] | None:
        """The unbroken run of entries after ``seq``: those of ``types`` (at most ``limit``) and the last seq
        the run covers (up to the ``limit``-th wanted entry). ``None`` when ``seq + 1`` is not held."""
        wanted: list[Event] = []
        wanted_types = frozenset(types) if types is not None else None
        with self._lock:
            held = self._events
            end = seq
            while (event := held.get(end + 1)) is not None:
                end += 1
                if wanted_types is None or event.type in wanted_types:
                    wanted.append(event)
                    if len(wanted) == limit:
                        break
        return None if end == seq else (wanted, end)

    def trim(self, upto: int) -> None:
        """Forget entries every runner has passed (``seq <= upto``)."""
        with self._lock:
            held = self._events
            while held and next(iter(held)) <= upto:  # nearly seq order: stragglers age out
                held.popitem(last=False)

    def __len__(self) -> int:
        return len(self._events)
