"""In-memory caches of unwrapped data keys, bounded (LRU) and short-lived (TTL).

Two caches with different trust:

* ``subjects``: (tenant, subject) → known DEK generations and the latest one. Filled only from committed
  state, used without touching the database (the hot path). Entries expire after ``ttl`` seconds, which
  bounds how long another process may keep using a key this process shredded.
* ``unwrapped``: (tenant, wrapped blob) → DEK, a memo of the provider's unwrap. Consulted only after the
  row was read in the caller's transaction, so it is never trusted on its own.

``drop_subject`` removes a subject from both (crypto-shredding).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class _Subject:
    expires_at: float
    latest: int | None = None
    keys: dict[int, bytes] = field(default_factory=dict)  # key_version → DEK


class KeyCache:
    def __init__(self, *, max_subjects: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_subjects < 0 or ttl < 0:
            raise ValueError("cache size and ttl must not be negative")
        self.max_subjects = max_subjects
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._subjects: OrderedDict[tuple[str, str], _Subject] = OrderedDict()
        self._unwrapped: OrderedDict[tuple[str, bytes], bytes] = OrderedDict()

    def _entry(self, tenant_id: str, subject_id: str) -> _Subject | None:
        key = (tenant_id, subject_id)
        entry = self._subjects.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            del self._subjects[key]
            return None
        self._subjects.move_to_end(key)
        return entry

    def latest(self, tenant_id: str, subject_id: str) -> tuple[int, bytes] | None:
        with self._lock:
            entry = self._entry(tenant_id, subject_id)
            if entry is None or entry.latest is None:
                return None
            return entry.latest, entry.keys[entry.latest]

    def version(self, tenant_id: str, subject_id: str, key_version: int) -> bytes | None:
        with self._lock:
            entry = self._entry(tenant_id, subject_id)
            return None if entry is None else entry.keys.get(key_version)

    def put(self, tenant_id: str, subject_id: str, key_version: int, dek: bytes, *, latest: bool) -> None:
        if self.max_subjects == 0:
            return
        with self._lock:
            entry = self._entry(tenant_id, subject_id)
            if entry is None:
                entry = _Subject(expires_at=self._clock() + self.ttl)
                self._subjects[(tenant_id, subject_id)] = entry
                while len(self._subjects) > self.max_subjects:
                    self._subjects.popitem(last=False)
            entry.keys[key_version] = dek
            if latest and (entry.latest is None or key_version >= entry.latest):
                entry.latest = key_version

    def unwrapped(self, tenant_id: str, blob: bytes) -> bytes | None:
        with self._lock:
            dek = self._unwrapped.get((tenant_id, blob))
            if dek is not None:
                self._unwrapped.move_to_end((tenant_id, blob))
            return dek

    def remember_unwrap(self, tenant_id: str, blob: bytes, dek: bytes) -> None:
        if self.max_subjects == 0:
            return
        with self._lock:
            self._unwrapped[(tenant_id, blob)] = dek
            while len(self._unwrapped) > self.max_subjects:
                self._unwrapped.popitem(last=False)

    def drop_subject(self, tenant_id: str, subject_id: str, blobs: Iterable[bytes] = ()) -> None:
        with self._lock:
            entry = self._subjects.pop((tenant_id, subject_id), None)
            doomed = set(entry.keys.values()) if entry is not None else set()
            for blob in blobs:
                self._unwrapped.pop((tenant_id, blob), None)
            if doomed:  # also forget memoized unwraps of these keys under blobs we no longer know
                for key in [k for k, dek in self._unwrapped.items() if k[0] == tenant_id and dek in doomed]:
                    del self._unwrapped[key]

    def clear(self) -> None:
        with self._lock:
            self._subjects.clear()
            self._unwrapped.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._subjects)
