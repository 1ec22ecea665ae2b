"""The erasure ledger: which subjects were erased, kept OUTSIDE the database so a restored backup
cannot forget an erasure.

File format: JSON lines, one per erasure, appended and fsynced before the subject's keys are deleted
(write-ahead: an entry is a commitment — an erasure interrupted after the append completes on replay)::

    {"v": 1, "tenant_id": "…", "subject_mac": "<hex HMAC-SHA256>", "erased_at": "2026-11-29T10:00:00.123456+00:00"}

The subject id itself is never written: ``subject_mac = provider.mac(tenant_id, "erasure", subject_id)``.
``replay`` MACs every subject id present in the database, and for each match deletes the subject's data
keys created up to the erasure and runs the registered erasure hooks (other packages' derived rows).
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, inspect, select

from tradeoff.core.clock import ensure_utc
from tradeoff.platform.db.engine import write_transaction
from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.vault.store import subject_keys

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MAC_PURPOSE = "erasure"


@dataclass(frozen=True, slots=True)
class ErasedSubject:
    tenant_id: str
    subject_id: str
    erased_at: datetime
    # The key provider of the vault doing the erasure: hooks that find rows by keyed pseudonym need it.
    keys: KeyProvider | None = field(default=None, compare=False, repr=False)


ErasureHook = Callable[[Connection, ErasedSubject], int]
"""Deletes (or anonymizes) a package's rows derived from an erased subject, in the given transaction,
and returns how many rows it changed. Hooks run on every erasure and again on every replay, so they
must be idempotent; on replay they should spare rows created after ``erased_at`` (a new relationship)."""

ERASURE_HOOKS: list[ErasureHook] = []


def register_erasure_hook(hook: ErasureHook) -> ErasureHook:
    """Register ``hook`` for every erasure and replay (usable as a decorator); registering twice is a no-op."""
    if hook not in ERASURE_HOOKS:
        ERASURE_HOOKS.append(hook)
    return hook


@dataclass(frozen=True, slots=True)
class ErasureOutcome:
    keys_deleted: int
    derived_rows_deleted: int
    wrapped_keys: tuple[bytes, ...]


def erase_subject_rows(
    conn: Connection,
    subject: ErasedSubject,
    *,
    hooks: Sequence[ErasureHook],
    keys_created_until: datetime | None = None,
) -> ErasureOutcome:
    """Delete the subject's data keys (all generations; on replay only those created up to the erasure)
    and run the hooks, all in ``conn``'s transaction."""
    where = [subject_keys.c.tenant_id == subject.tenant_id, subject_keys.c.subject_id == subject.subject_id]
    if keys_created_until is not None:
        where.append(subject_keys.c.created_at <= keys_created_until)
    blobs = tuple(bytes(b) for b in conn.scalars(select(subject_keys.c.wrapped_dek).where(*where)))
    keys_deleted = conn.execute(delete(subject_keys).where(*where)).rowcount if blobs else 0
    derived = sum(hook(conn, subject) for hook in hooks)
    return ErasureOutcome(keys_deleted=keys_deleted, derived_rows_deleted=derived, wrapped_keys=blobs)


class LedgerError(Exception):
    """The ledger file is unsafe or corrupt; erasures cannot be recorded or replayed until fixed."""


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    tenant_id: str
    subject_mac: str
    erased_at: datetime


@dataclass(frozen=True, slots=True)
class ReplayReport:
    entries: int  # distinct erased subjects in the ledger
    subjects_found: int  # of those, subjects the database still mentions
    reshredded: int  # subjects whose keys or derived rows were deleted again
    keys_deleted: int
    derived_rows_deleted: int
    erased: tuple[ErasedSubject, ...] = ()


class ErasureLedger:
    def __init__(self, path: Path, provider: KeyProvider) -> None:
        self.path = path
        self.provider = provider
        self._lock = threading.Lock()

    def subject_mac(self, tenant_id: str, subject_id: str) -> str:
        return self.provider.mac(tenant_id, MAC_PURPOSE, subject_id.encode("utf-8")).hex()

    @contextmanager
    def _locked(self, fd: int) -> Iterator[None]:
        if fcntl is None:  # pragma: no cover
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _check_mode(self, mode: int) -> None:
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise LedgerError(f"{self.path} is accessible by others (mode {stat.filemode(mode)}); chmod 600 it")

    def append(self, tenant_id: str, subject_id: str, *, erased_at: datetime) -> LedgerEntry:
        """Record an erasure durably (fsync) before anything is deleted."""
        entry = LedgerEntry(tenant_id, self.subject_mac(tenant_id, subject_id), ensure_utc(erased_at))
        record = {"v": 1, "tenant_id": tenant_id, "subject_mac": entry.subject_mac}
        record["erased_at"] = entry.erased_at.isoformat()
        line = json.dumps(record, separators=(",", ":")).encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                self._check_mode(os.fstat(fd).st_mode)
                with self._locked(fd):
                    _drop_torn_tail(fd)
                    os.write(fd, line + b"\n")
                    os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        return entry

    def entries(self) -> list[LedgerEntry]:
        if not self.path.exists():
            return []
        self._check_mode(self.path.stat().st_mode)
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        found: list[LedgerEntry] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                found.append(
                    LedgerEntry(
                        tenant_id=str(record["tenant_id"]),
                        subject_mac=str(record["subject_mac"]),
                        erased_at=ensure_utc(datetime.fromisoformat(record["erased_at"])),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                if number == len(lines) and not raw.endswith(b"\n"):
                    # a crash mid-append: that erasure never deleted anything and its caller saw an error
                    log.warning("erasure ledger %s: ignoring a torn last line", self.path)
                    continue
                raise LedgerError(f"{self.path}:{number}: unreadable ledger entry ({exc})") from None
        return found

    def erased(self) -> dict[tuple[str, str], datetime]:
        """(tenant_id, subject_mac) → the latest erasure time."""
        latest: dict[tuple[str, str], datetime] = {}
        for entry in self.entries():
            key = (entry.tenant_id, entry.subject_mac)
            if key not in latest or entry.erased_at > latest[key]:
                latest[key] = entry.erased_at
        return latest

    def find_erased(self, conn: Connection) -> list[ErasedSubject]:
        """Subjects named anywhere in the database (any ``subject_key`` column) that the ledger erased."""
        by_tenant: dict[str, dict[str, datetime]] = {}
        for (tenant_id, mac), at in self.erased().items():
            by_tenant.setdefault(tenant_id, {})[mac] = at
        found = []
        for tenant_id, macs in by_tenant.items():
            for subject_id in sorted(_subject_ids(conn, tenant_id)):
                erased_at = macs.get(self.subject_mac(tenant_id, subject_id))
                if erased_at is not None:
                    found.append(ErasedSubject(tenant_id, subject_id, erased_at, self.provider))
        return found

    def replay(self, engine: Engine, *, hooks: Sequence[ErasureHook] | None = None) -> ReplayReport:
        """Re-apply every recorded erasure (run after restoring a database backup; safe to run any time).
        One short transaction per subject."""
        hooks = ERASURE_HOOKS if hooks is None else hooks
        entries = len(self.erased())
        if entries == 0:
            return ReplayReport(0, 0, 0, 0, 0)
        with engine.connect() as conn:
            subjects = self.find_erased(conn)
        keys = derived = reshredded = 0
        for subject in subjects:
            with write_transaction(engine) as conn:
                outcome = erase_subject_rows(conn, subject, hooks=hooks, keys_created_until=subject.erased_at)
            keys += outcome.keys_deleted
            derived += outcome.derived_rows_deleted
            if outcome.keys_deleted or outcome.derived_rows_deleted:
                reshredded += 1
                log.warning("erasure replay: removed data of an erased subject again (tenant %s)", subject.tenant_id)
        return ReplayReport(entries, len(subjects), reshredded, keys, derived, tuple(subjects))


def _drop_torn_tail(fd: int) -> None:
    """Cut an incomplete last line (a crash mid-append: that erasure was never carried out)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    end = size
    while end > 0:
        start = max(0, end - 4096)
        newline = os.pread(fd, end - start, start).rfind(b"\n")
        if newline >= 0:
            os.ftruncate(fd, start + newline + 1)
            return
        end = start
    os.ftruncate(fd, 0)


def _subject_ids(conn: Connection, tenant_id: str) -> set[str]:
    """Every subject id of a tenant in every table with a ``tenant_id`` and a ``subject_key`` column."""
    from tradeoff.platform.db.registry import all_metadata

    present = set(inspect(conn).get_table_names())
    ids: set[str] = set()
    for table in all_metadata().sorted_tables:
        if table.name not in present or "tenant_id" not in table.c:
            continue
        for column in table.columns:
            if column.info.get("subject_key"):
                query = select(column).where(table.c.tenant_id == tenant_id, column.is_not(None)).distinct()
                ids.update(str(value) for value in conn.scalars(query))
    return ids
