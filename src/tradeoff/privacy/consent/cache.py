"""Consent lookups for the ingest path, with an optional cache that never outlives a change made here.

``ttl_seconds=0`` (the default) reads the ledger for every lookup: correct across any number of
processes. With a TTL, entries are dropped the moment a change is recorded in this process (through
``service`` or ``notify_consent_changed``), so "withdrawal applies to the next event" still holds for
everything this process ingests; another process sees the change within the TTL.

``snapshot(pairs)`` reads the states of a whole ingest batch at once, just before the gate decides on it:
one read instead of one per event, and still the state committed at the time of the decision (it is
never kept past the batch).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import Engine

from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.privacy.consent.ledger import consent_state, consent_states
from tradeoff.privacy.consent.model import ConsentState
from tradeoff.privacy.consent.snapshot import ConsentSnapshot

_caches: weakref.WeakSet[ConsentCache] = weakref.WeakSet()
_caches_lock = threading.Lock()


def notify_consent_changed(tenant_id: str, subject_id: str) -> None:
    """Call after committing any consent or subject change: every cache in this process forgets it."""
    with _caches_lock:
        caches = list(_caches)
    for cache in caches:
        cache.invalidate(tenant_id=tenant_id, subject_id=subject_id)


class ConsentCache:
    def __init__(
        self,
        engine: Engine,
        *,
        ttl_seconds: float = 0.0,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[tuple[str, str], tuple[float, ConsentState]] = OrderedDict()
        self._generation = 0  # bumped by every invalidation: a read that raced one is not cached
        self._lock = threading.Lock()
        self.reads = 0  # ledger reads done (for tests and metrics)
        with _caches_lock:
            _caches.add(self)

    def state(self, *, tenant_id: str, subject_id: str, at: datetime | None = None) -> ConsentState:
        if at is not None or self.ttl_seconds <= 0:
            return self._load(tenant_id, subject_id, at)
        key = (tenant_id, subject_id)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._monotonic() - entry[0] < self.ttl_seconds:
                self._entries.move_to_end(key)
                return entry[1]
            generation = self._generation
        loaded_at = self._monotonic()
        state = self._load(tenant_id, subject_id, None)
        with self._lock:
            if generation == self._generation:
                self._entries[key] = (loaded_at, state)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return state

    def snapshot(self, pairs: Iterable[tuple[str, str]]) -> ConsentSnapshot:
        """The states of every ``(tenant_id, subject_id)`` in ``pairs``, read together (one read
        transaction, ``consent_states`` per tenant) — for one ingest batch, decided
        right after. Without a TTL nothing is reused from earlier reads; with one, fresh entries are, as
        ``state`` would. A subject the snapshot does not hold is read through ``state``."""
        wanted = set(pairs)
        found: dict[tuple[str, str], ConsentState] = {}
        with self._lock:
            generation = self._generation
            if self.ttl_seconds > 0:
                now = self._monotonic()
                for key in wanted:
                    entry = self._entries.get(key)
                    if entry is not None and now - entry[0] < self.ttl_seconds:
                        found[key] = entry[1]
        missing = wanted - found.keys()
        if not missing:
            return ConsentSnapshot(found, fallback=self)
        by_tenant: dict[str, list[str]] = {}
        for tenant_id, subject_id in missing:
            by_tenant.setdefault(tenant_id, []).append(subject_id)
        loaded_at = self._monotonic()
        loaded: dict[tuple[str, str], ConsentState] = {}
        with self.engine.begin() as conn:
            for tenant_id, subject_ids in by_tenant.items():
                scope_to_tenant(conn, tenant_id)
                states = consent_states(conn, tenant_id=tenant_id, subject_ids=subject_ids)
                loaded.update(((tenant_id, subject_id), state) for subject_id, state in states.items())
        self.reads += 1
        if self.ttl_seconds > 0:
            with self._lock:
                if generation == self._generation:
                    for key, state in loaded.items():
                        self._entries[key] = (loaded_at, state)
                        self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
        return ConsentSnapshot(found | loaded, fallback=self)

    def invalidate(self, *, tenant_id: str, subject_id: str) -> None:
        with self._lock:
            self._generation += 1
            self._entries.pop((tenant_id, subject_id), None)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def _load(self, tenant_id: str, subject_id: str, at: datetime | None) -> ConsentState:
        self.reads += 1
        with self.engine.begin() as conn:
            scope_to_tenant(conn, tenant_id)
            return consent_state(conn, tenant_id=tenant_id, subject_id=subject_id, at=at)
