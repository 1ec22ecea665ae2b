"""Hands committed events to processors, exactly once per processor.

Each processor has a checkpoint (the last ``seq`` it applied). A worker reads the log after the
checkpoint, applies a batch and moves the checkpoint **in the same transaction**, so a crash either
keeps both or neither: restart resumes without loss or double effects. Workers wake on commit
notifications and also poll, so events committed by another process (CLI import, a second API server)
are picked up too. A JetStream-backed bus can replace this class; processors do not change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from tradeoff.core.clock import utcnow
from tradeoff.core.events import Event
from tradeoff.platform import metrics
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.tables import parked_events, processor_checkpoints
from tradeoff.platform.eventlog import count_events, max_seq, read_events
from tradeoff.platform.tail import CommittedTail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BATCH_SIZE = 2000  # events per processor transaction; a processor may declare its own ``batch_size``
SKIP_PERSIST_SECONDS = 5.0  # how often a runner stores how far it skipped unwanted entries


class Processor(Protocol):
    """A subscriber: applies events to its projections inside the transaction it is given.

    Optional attributes the bus reads: ``batch_size`` (events per transaction, default ``BATCH_SIZE``) and
    ``emits`` (event types ``apply`` appends to the log itself; their consumers are woken after it ran,
    since such appends do not pass the ingest pipeline that wakes runners)."""

    name: str
    event_types: frozenset[str] | None  # None: every type

    def apply(self, conn: Connection, events: Sequence[Event]) -> None: ...


# Statements built once (bound parameters): a runner executes several per batch, and building a
# SQLAlchemy statement costs more than running these on an index.
_CHECKPOINT = select(processor_checkpoints.c.last_seq).where(processor_checkpoints.c.processor == bindparam("name"))
_CHECKPOINT_FOR_UPDATE = _CHECKPOINT.with_for_update()
_SAVE_CHECKPOINT = (
    update(processor_checkpoints)
    .where(processor_checkpoints.c.processor == bindparam("name"))
    .values(last_seq=bindparam("seq"), updated_at=bindparam("at"))
)


def _load_checkpoint(conn: Connection, name: str) -> int:
    query = _CHECKPOINT_FOR_UPDATE if conn.dialect.name == "postgresql" else _CHECKPOINT
    value = conn.execute(query, {"name": name}).scalar()
    if value is None:
        conn.execute(insert(processor_checkpoints).values(processor=name, last_seq=0, updated_at=utcnow()))
        return 0
    return int(value)


def _peek_checkpoint(conn: Connection, name: str) -> int:
    """The checkpoint without locking or creating it (a read-only look)."""
    return int(conn.execute(_CHECKPOINT, {"name": name}).scalar() or 0)


def _advance_checkpoint(conn: Connection, name: str, seq: int) -> None:
    """Move the checkpoint forward to ``seq`` (never back: another process may be further on)."""
    if _load_checkpoint(conn, name) < seq:
        _save_checkpoint(conn, name, seq)


def _save_checkpoint(conn: Connection, name: str, seq: int) -> None:
    conn.execute(_SAVE_CHECKPOINT, {"name": name, "seq": seq, "at": utcnow()})


class ProcessorRunner:
    """Drives one processor from its checkpoint; safe to run in several processes at once on PostgreSQL.

    A stretch of the log holding none of the processor's types is skipped with a read, not a write: the
    runner remembers how far it saw nothing wanted (``_scanned``) and persists that only every
    ``SKIP_PERSIST_SECONDS``, so a processor idle under another capability's load does not take the
    write lock and an fsync after every commit. Skipping is safe because appends are serialized: nothing
    can later appear at or below the ``max_seq`` a read saw, and re-reading an empty stretch after a
    restart applies nothing."""

    def __init__(
        self, engine: Engine, processor: Processor, *, batch_size: int = BATCH_SIZE, tail: CommittedTail | None = None
    ) -> None:
        self.engine = engine
        self.processor = processor
        self.batch_size = batch_size
        self.tail = tail
        self._failures: dict[int, int] = {}
        self._types = sorted(processor.event_types) if processor.event_types is not None else None
        self._scanned = 0  # nothing wanted up to here (may be ahead of the stored checkpoint)
        self._persisted_at = time.monotonic()
        self._lag = 0

    def run_once(self) -> int:
        """Apply the next batch; returns how many log entries were consumed (0 when caught up)."""
        name = self.processor.name
        try:
            taken = self._take_from_tail()
            if taken is not None:
                return taken
            skipped = self._skip_unwanted()
            if skipped is not None:
                return skipped
            with write_transaction(self.engine) as conn:
                checkpoint = _load_checkpoint(conn, name)
                start = max(checkpoint, self._scanned)
                top = max_seq(conn)  # appends are serialized: everything up to here is committed
                if top <= start:
                    self._lag = 0
                    return 0
                wanted = read_events(conn, after_seq=start, until_seq=top, limit=self.batch_size, types=self._types)
                if wanted:
                    self.processor.apply(conn, wanted)
                # a full batch may stop short of the tail; otherwise the events in between were not wanted
                end = wanted[-1].seq if len(wanted) == self.batch_size else top
                _save_checkpoint(conn, name, end)
            self._scanned, self._persisted_at, self._lag = end, time.monotonic(), top - end
            metrics.PROCESSOR_APPLIED.labels(name).inc(len(wanted))
            self._failures.clear()
            return end - start
        except Exception:
            metrics.PROCESSOR_FAILURES.labels(name).inc()
            log.exception("processor %s failed on a batch; retrying event by event", name)
            return self._run_singly()

    def wants_any(self, types: set[str]) -> bool:
        return self._types is None or not types.isdisjoint(self._types)

    @property
    def position(self) -> int:
        """How far this runner has applied or skipped (in this process; 0 before its first run)."""
        return self._scanned

    def _take_from_tail(self) -> int | None:
        """Apply the entries right after this runner's position from the committed tail, without reading
        the log back; ``None`` when the tail cannot serve (then the log is read)."""
        start = self._scanned
        run = self.tail.run_after(start, types=self._types, limit=self.batch_size) if self.tail and start else None
        if run is None:
            return None
        wanted, end = run
        if wanted:
            with write_transaction(self.engine) as conn:
                # Another process may have moved the checkpoint, or an erasure deleted entries: the log decides
                if _load_checkpoint(conn, self.processor.name) > start or count_events(conn, start, end) != end - start:
                    return None
                self.processor.apply(conn, wanted)
                _save_checkpoint(conn, self.processor.name, end)
            self._persisted_at = time.monotonic()
            metrics.PROCESSOR_APPLIED.labels(self.processor.name).inc(len(wanted))
            self._failures.clear()
        self._scanned, self._lag = end, 0
        if not wanted:
            self._persist_skip(start)
        return end - start

    def _skip_unwanted(self) -> int | None:
        """How far a read-only look moved past log entries this processor does not want (0: caught up);
        ``None`` when there is something to apply, which needs the write transaction."""
        with self.engine.connect() as conn:
            checkpoint = _peek_checkpoint(conn, self.processor.name)
            start = max(checkpoint, self._scanned)
            top = max_seq(conn)
        if top <= start:
            self._lag = 0
            self._persist_skip(checkpoint)  # idle now: store how far it skipped, once due
            return 0
        with self.engine.connect() as conn:
            if self._types is None or read_events(conn, after_seq=start, until_seq=top, limit=1, types=self._types):
                return None
        self._scanned, self._lag = top, 0
        self._persist_skip(checkpoint)
        return top - start

    def _persist_skip(self, stored: int) -> None:
        """Store the position reached by skipping, at most every ``SKIP_PERSIST_SECONDS``."""
        if self._scanned > stored and time.monotonic() - self._persisted_at >= SKIP_PERSIST_SECONDS:
            with write_transaction(self.engine) as conn:
                _advance_checkpoint(conn, self.processor.name, self._scanned)
            self._persisted_at = time.monotonic()

    def _run_singly(self) -> int:
        """After a batch failure: apply one event per transaction, parking one that keeps failing."""
        name = self.processor.name
        with write_transaction(self.engine) as conn:
            checkpoint = max(_load_checkpoint(conn, name), self._scanned)
            batch = read_events(conn, after_seq=checkpoint, limit=1)
            if not batch:
                return 0
            event = batch[0]
            try:
                with conn.begin_nested():
                    if self._wants(event):
                        self.processor.apply(conn, [event])
            except Exception as exc:
                attempts = self._failures.get(event.seq, 0) + 1
                self._failures[event.seq] = attempts
                if attempts < MAX_ATTEMPTS:
                    log.warning("processor %s failed on seq %s (attempt %s)", name, event.seq, attempts)
                    raise
                conn.execute(
                    insert(parked_events).values(
                        processor=name,
                        seq=event.seq,
                        tenant_id=event.tenant_id,
                        error=f"{type(exc).__name__}: {exc}"[:2000],
                        parked_at=utcnow(),
                    )
                )
                log.error("processor %s parked seq %s after %s attempts", name, event.seq, attempts)
            _save_checkpoint(conn, name, event.seq)
        return 1

    def lag(self) -> int:
        """Log entries past what this runner has applied or skipped, as of its last run."""
        return self._lag

    def _wants(self, event: Event) -> bool:
        types = self.processor.event_types
        return types is None or event.type in types


class InProcessBus:
    """One worker thread per processor, woken by ``notify`` after commits and by a poll timer."""

    def __init__(self, engine: Engine, *, poll_seconds: float = 1.0) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self.tail = CommittedTail()
        self._runners: list[ProcessorRunner] = []
        self._wakeups: list[threading.Event] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def register(self, processor: Processor) -> None:
        if self._threads:
            raise RuntimeError("register processors before the bus starts")
        if any(r.processor.name == processor.name for r in self._runners):
            raise ValueError(f"processor {processor.name!r} registered twice")
        batch_size = getattr(processor, "batch_size", BATCH_SIZE)
        self._runners.append(ProcessorRunner(self.engine, processor, batch_size=batch_size, tail=self.tail))

    @property
    def runners(self) -> list[ProcessorRunner]:
        return list(self._runners)

    def notify(self, _max_seq: int) -> None:
        for wakeup in self._wakeups:
            wakeup.set()

    def publish(self, events: Sequence[Event]) -> None:
        """Events this process just committed: kept in the tail; the runners that want any of them are
        woken (the others move past them at their next poll)."""
        if not events:
            return
        self.tail.publish(events)
        types = {event.type for event in events}
        for runner, wakeup in zip(self._runners, self._wakeups, strict=False):
            if runner.wants_any(types):
                wakeup.set()

    def _wake_consumers_of(self, producer: ProcessorRunner) -> None:
        emits: set[str] = set(getattr(producer.processor, "emits", ()))
        if emits:
            for runner, wakeup in zip(self._runners, self._wakeups, strict=False):
                if runner is not producer and runner.wants_any(emits):
                    wakeup.set()

    def start(self) -> None:
        for runner in self._runners:
            wakeup = threading.Event()
            thread = threading.Thread(
                target=self._work,
                args=(runner, wakeup),
                name=f"processor-{runner.processor.name}",
                daemon=True,
            )
            self._wakeups.append(wakeup)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.notify(0)
        for thread in self._threads:
            thread.join(timeout=10)

    def drain(self) -> None:
        """Apply everything committed so far, synchronously (CLI import, tests)."""
        for runner in self._runners:
            while runner.run_once():
                pass
        if self._runners:
            self.tail.trim(min(runner.position for runner in self._runners))

    def _work(self, runner: ProcessorRunner, wakeup: threading.Event) -> None:
        backoff = self.poll_seconds
        while not self._stopping.is_set():
            try:
                while runner.run_once() and not self._stopping.is_set():
                    pass
                self._wake_consumers_of(runner)
                self.tail.trim(min(other.position for other in self._runners))
                metrics.PROCESSOR_LAG.labels(runner.processor.name).set(runner.lag())
                backoff = self.poll_seconds
            except Exception:
                backoff = min(backoff * 2, 30.0)
            wakeup.wait(timeout=backoff)
            wakeup.clear()
