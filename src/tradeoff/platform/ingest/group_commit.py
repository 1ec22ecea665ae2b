"""Group commit: the appends of ingest calls that arrive while another one is committing share one
transaction, so one commit (one fsync, one turn of the append lock) serves several requests.

Why: appends are serialized (the log's append lock; SQLite's single writer), so under concurrent load
the lock, not the CPU, sets the pace — each holder pays a commit and, on SQLite, an fsync, and waits to
get the GIL back after every C call while other requests validate. Whoever takes the commit turn
appends everything queued by then, in arrival order; the others find their part done when their turn
comes. Arrival order keeps duplicate semantics: an id in two calls of one group is inserted by the first
and reported as a duplicate to the second, as if they had committed one after the other.

A group that fails is retried call by call, each in its own transaction, so one caller's bad rows never
fail another caller's (each caller gets its own outcome: its inserted keys or its exception).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from tradeoff.platform.eventlog import PreparedRows, StoredKey, add_dead_letters, append_events, append_transaction


@dataclass(slots=True)
class _Append:
    rows: PreparedRows
    dead: list[dict[str, Any]]
    inserted: dict[StoredKey, int] = field(default_factory=dict)
    error: BaseException | None = None
    done: bool = False


class GroupCommit:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queued: list[_Append] = []
        self._queue_lock = threading.Lock()
        self._turn = threading.Lock()  # one committer at a time; it commits everything queued

    def append(self, rows: PreparedRows, dead: list[dict[str, Any]]) -> dict[StoredKey, int]:
        """Store ``rows`` (skipping ids already stored) and ``dead`` durably; returns the keys inserted
        with their ``seq``. Returns only after the transaction holding them committed."""
        mine = _Append(rows, dead)
        with self._queue_lock:
            self._queued.append(mine)
        with self._turn:
            if not mine.done:
                with self._queue_lock:
                    group, self._queued = self._queued, []
                self._commit(group)
        if mine.error is not None:
            raise mine.error
        return mine.inserted

    def _commit(self, group: list[_Append]) -> None:
        try:
            with append_transaction(self.engine) as conn:
                for item in group:
                    item.inserted = append_events(conn, item.rows)
                    add_dead_letters(conn, item.dead)
        except Exception as exc:
            if len(group) > 1:
                for item in group:  # nothing of the group was stored: each on its own
                    self._commit([item])
                return
            group[0].inserted, group[0].error = {}, exc
        for item in group:
            item.done = True
