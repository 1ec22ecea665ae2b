"""``AuditTrail``: the audit chain as one object other modules are handed (keys, signing, checkpoints).

Checkpoints are made outside the recording transaction (their off-database copy must never name an entry
that rolls back): ``record`` wakes the ``AuditCheckpointer`` when a tenant's chain has grown by
``checkpoint_every`` entries, and the checkpointer also signs every tenant's new head each
``interval_seconds``. ``tradeoff privacy audit-checkpoint`` does the same on demand.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from tradeoff.core.clock import Clock, SystemClock
from tradeoff.platform.settings import Settings
from tradeoff.privacy.audit import service
from tradeoff.privacy.audit.chain import AuditEntry
from tradeoff.privacy.audit.signing import CHECKPOINT_FILE, Checkpoint, CheckpointFile, SigningKeys
from tradeoff.privacy.audit.store import AUDIT_RETENTION_DAYS
from tradeoff.privacy.audit.verify import VerifyReport, verify
from tradeoff.privacy.keys import KeyProvider, LocalKeyProvider

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_EVERY = 1000
DEFAULT_CHECKPOINT_INTERVAL_SECONDS = 300.0


@dataclass
class AuditTrail:
    keys: KeyProvider
    signing: SigningKeys
    checkpoint_file: CheckpointFile
    clock: Clock
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    wake: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _due: set[str] = field(default_factory=set, init=False, repr=False)
    _due_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        keys: KeyProvider | None = None,
        clock: Clock | None = None,
        checkpoint_every: int | None = None,
        checkpoint_path: Path | None = None,
    ) -> AuditTrail:
        """Signing key and checkpoint file next to the keyring (``settings.keyring_path.parent``) unless
        ``TRADEOFF_AUDIT_CHECKPOINT_PATH`` / ``TRADEOFF_AUDIT_CHECKPOINT_EVERY`` say otherwise (read when
        the settings declare them)."""
        directory = settings.keyring_path.parent
        configured_path = getattr(settings, "audit_checkpoint_path", None)
        path = checkpoint_path or (Path(configured_path) if configured_path else directory / CHECKPOINT_FILE)
        every = checkpoint_every
        if every is None:
            every = int(getattr(settings, "audit_checkpoint_every", DEFAULT_CHECKPOINT_EVERY))
        return cls(
            keys=keys if keys is not None else LocalKeyProvider(settings.keyring_path),
            signing=SigningKeys(directory),
            checkpoint_file=CheckpointFile(path),
            clock=clock or SystemClock(),
            checkpoint_every=every,
        )

    def record(
        self,
        conn: Connection,
        *,
        tenant_id: str,
        actor: str,
        action: str,
        subject_id: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append to the tenant's chain inside the caller's write transaction."""
        entry = service.record(
            conn,
            keys=self.keys,
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            subject_id=subject_id,
            details=details,
            clock=self.clock,
        )
        if self.checkpoint_every > 0 and entry.seq % self.checkpoint_every == 0:
            with self._due_lock:
                self._due.add(tenant_id)
            self.wake.set()
        return entry

    def take_due(self) -> list[str]:
        """Tenants whose chain reached a multiple of ``checkpoint_every`` since the last call."""
        with self._due_lock:
            due, self._due = sorted(self._due), set()
        return due

    def checkpoint(self, engine: Engine, tenant_id: str) -> Checkpoint | None:
        return service.checkpoint(engine, tenant_id, signing=self.signing, file=self.checkpoint_file, clock=self.clock)

    def checkpoint_all(self, engine: Engine, *, min_new_entries: int = 1) -> list[Checkpoint]:
        """Checkpoint every tenant with at least ``min_new_entries`` entries since its last checkpoint."""
        made = []
        for tenant_id in service.tenants_needing_checkpoint(engine, min_new_entries=min_new_entries):
            cp = self.checkpoint(engine, tenant_id)
            if cp is not None:
                made.append(cp)
        return made

    def verify(self, engine: Engine, tenant_id: str | None = None) -> VerifyReport:
        return verify(engine, tenant_id, keys=self.keys, signing=self.signing, checkpoint_file=self.checkpoint_file)

    def prune(self, engine: Engine, tenant_id: str, *, before: datetime | None = None, actor: str = "system") -> int:
        """The audit log's retention: entries older than ``before`` (default: ``AUDIT_RETENTION_DAYS`` ago)
        are deleted up to a signed checkpoint, and the prune is recorded in the chain."""
        cutoff = before if before is not None else self.clock.now() - timedelta(days=AUDIT_RETENTION_DAYS)
        return service.prune(engine, tenant_id, keys=self.keys, before=cutoff, actor=actor, clock=self.clock)


class AuditCheckpointer:
    """Background thread: checkpoints tenants that grew by ``checkpoint_every`` (woken by ``record``)
    and, every ``interval_seconds``, any tenant with new entries. Has the platform ``Transport`` shape
    (``start``/``stop``/``connected``) so it can run beside the bus."""

    def __init__(
        self, trail: AuditTrail, engine: Engine, *, interval_seconds: float = DEFAULT_CHECKPOINT_INTERVAL_SECONDS
    ) -> None:
        self.trail = trail
        self.engine = engine
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def connected(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="audit-checkpointer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.trail.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.run_once(min_new_entries=1)  # a final checkpoint so a clean shutdown leaves nothing unanchored

    def run_once(self, *, min_new_entries: int = 1) -> list[Checkpoint]:
        """Checkpoint the tenants that ``record`` marked due, then every tenant with new entries."""
        made: list[Checkpoint] = []
        try:
            for tenant_id in self.trail.take_due():
                cp = self.trail.checkpoint(self.engine, tenant_id)
                if cp is not None:
                    made.append(cp)
            made.extend(self.trail.checkpoint_all(self.engine, min_new_entries=min_new_entries))
        except Exception:  # keep the thread alive; the next round retries
            log.exception("audit checkpoint failed")
        return made

    def _run(self) -> None:
        while not self._stop.is_set():
            woken = self.trail.wake.wait(self.interval_seconds)
            self.trail.wake.clear()
            if self._stop.is_set():
                return
            # woken: only the due tenants (and any far behind); on the timer: every tenant with new entries
            self.run_once(min_new_entries=max(1, self.trail.checkpoint_every) if woken else 1)
