"""Data-subject erasure (GDPR Art. 17, CCPA delete), in the caller's transaction:

1. the ``dsr.erase`` audit entry (first: on PostgreSQL it also takes the tenant's chain lock);
2. ``Vault.shred``: the erasure ledger entry (fsynced, outside the database), then the subject's data keys
   are deleted, so every ciphertext of the subject, in the database and in its backups, is unreadable;
3. the subject's rows in every registry table are deleted (``delete``) or the subject is closed
   (``close``: ``subjects`` keeps a tombstone, so the app token answers 410 and the gate drops later events);
   the subject's events (by keyed pseudonym) and the dead letters naming the subject id are deleted.

The same deletion is registered as an erasure hook (``erasure_hook``), so replaying the ledger after a
backup restore deletes the restored rows and events again and closes the subject again. On replay it
spares rows newer than the erasure (``time_column`` > ``erased_at``); the erasure itself deletes them all.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.privacy.audit.chain import Action
from tradeoff.privacy.audit.trail import AuditTrail
from tradeoff.privacy.dsr import locate
from tradeoff.privacy.dsr.export import require_subject
from tradeoff.privacy.dsr.registry import ErasureRule, PersonalDataRegistry, PersonalTable, default_registry
from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.vault.erasure_ledger import ErasedSubject, register_erasure_hook
from tradeoff.privacy.vault.service import Vault

log = logging.getLogger(__name__)

# (tenant, subject) whose rows ``erase_subject`` deletes itself: the hook leaves them alone during its shred.
_erasing: ContextVar[tuple[str, str] | None] = ContextVar("dsr_erasing", default=None)


@dataclass(frozen=True)
class Forgotten:
    """What one pass of ``forget_subject`` changed."""

    tables: dict[str, int] = field(default_factory=dict)  # rows deleted per registry table
    closed: int = 0  # tombstones closed (``close`` tables)
    events: int = 0
    dead_letters: int = 0

    @property
    def rows(self) -> int:
        return sum(self.tables.values()) + self.dead_letters

    @property
    def total(self) -> int:
        return self.rows + self.closed + self.events


@dataclass(frozen=True)
class ErasureReport:
    tenant_id: str
    erased_at: datetime
    keys_deleted: int
    forgotten: Forgotten
    other_rows_deleted: int  # by other packages' erasure hooks

    @property
    def rows_deleted(self) -> int:
        """Rows deleted in registry tables, data keys, dead letters and other packages' rows (the
        ``subjects`` tombstone is closed, not counted)."""
        return self.forgotten.rows + self.keys_deleted + self.other_rows_deleted

    @property
    def events_deleted(self) -> int:
        return self.forgotten.events

    def to_json(self) -> dict[str, Any]:
        return {
            "erased": True,
            "erased_at": self.erased_at.isoformat(),
            "rows_deleted": self.rows_deleted,
            "events_deleted": self.events_deleted,
            "tables": {
                **self.forgotten.tables,
                "subject_keys": self.keys_deleted,
                "dead_letters": self.forgotten.dead_letters,
            },
        }


def _close(
    conn: Connection,
    entry: PersonalTable,
    *,
    tenant_id: str,
    subject_id: str,
    erased_at: datetime,
    until: datetime | None,
) -> int:
    """Keep the row as a tombstone: closed at the erasure, and no registration time left in it."""
    table = entry.table
    values: dict[str, Any] = {"closed_at": erased_at}
    statement = update(table).where(
        table.c.tenant_id == tenant_id, entry.key == subject_id, table.c.closed_at.is_(None)
    )
    if entry.time_column is not None:
        values[entry.time_column.name] = erased_at
        if until is not None:
            statement = statement.where(entry.time_column <= until)
    return conn.execute(statement.values(**values)).rowcount


def forget_subject(
    conn: Connection,
    *,
    tenant_id: str,
    subject_id: str,
    erased_at: datetime,
    keys: KeyProvider | None,
    registry: PersonalDataRegistry | None = None,
    until: datetime | None = None,
) -> Forgotten:
    """Delete the subject's rows in every registry table, their events and dead letters, and close the
    subject. ``until`` (replays): spare rows whose time column is later. Idempotent. Without ``keys`` the
    pseudonymous rows cannot be found and are left (logged)."""
    registry = registry or default_registry()
    pseudonyms: set[str] = set()
    if keys is not None:
        pseudonyms = locate.subject_pseudonyms(
            conn, keys=keys, tenant_id=tenant_id, subject_id=subject_id, registry=registry
        )
    else:
        log.warning("erasure without a key provider: events and pseudonymous rows of the subject are left")
    tables: dict[str, int] = {}
    closed = 0
    for entry in registry.tables:
        if entry.erasure is ErasureRule.SHRED or (entry.by_pseudonym and keys is None):
            continue
        if entry.erasure is ErasureRule.CLOSE:
            closed += _close(conn, entry, tenant_id=tenant_id, subject_id=subject_id, erased_at=erased_at, until=until)
            continue
        tables[entry.name] = locate.delete_rows(
            conn, entry, tenant_id=tenant_id, subject_id=subject_id, pseudonyms=pseudonyms, until=until
        )
    events = locate.delete_events(conn, tenant_id=tenant_id, pseudonyms=pseudonyms, until=until) if pseudonyms else 0
    dead = locate.delete_dead_letters(conn, tenant_id=tenant_id, needles=[subject_id], until=until)
    return Forgotten(tables=tables, closed=closed, events=events, dead_letters=dead)


def erase_subject(
    conn: Connection,
    *,
    tenant_id: str,
    subject_id: str,
    vault: Vault,
    audit: AuditTrail,
    actor: str,
    requested_by: str,
    registry: PersonalDataRegistry | None = None,
) -> ErasureReport:
    """Erase a subject inside ``conn``'s write transaction (bound to ``tenant_id``). Raises ``NotFound``
    for an unknown subject and ``SubjectErased`` for one already erased. Commit promptly: until the commit,
    the ledger already names the subject (a crash before it is completed by the next replay)."""
    registry = registry or default_registry()
    require_subject(conn, tenant_id=tenant_id, subject_id=subject_id, registry=registry)
    audit.record(
        conn,
        tenant_id=tenant_id,
        actor=actor,
        action=Action.DSR_ERASE,
        subject_id=subject_id,
        details={"requested_by": requested_by},
    )
    token = _erasing.set((tenant_id, subject_id))
    try:
        shred = vault.shred(tenant_id, subject_id, conn=conn)
    finally:
        _erasing.reset(token)
    forgotten = forget_subject(
        conn,
        tenant_id=tenant_id,
        subject_id=subject_id,
        erased_at=shred.erased_at,
        keys=vault.provider,
        registry=registry,
    )
    return ErasureReport(
        tenant_id=tenant_id,
        erased_at=shred.erased_at,
        keys_deleted=shred.keys_deleted,
        forgotten=forgotten,
        other_rows_deleted=shred.derived_rows_deleted,
    )


class DsrErasureHook:
    """The erasure hook of the DSR core: on every ledger replay (and every ``Vault.shred`` not made by
    ``erase_subject``), forget the subject's rows and events again, sparing rows newer than the erasure."""

    def __init__(self, registry: PersonalDataRegistry | None = None) -> None:
        self.registry = registry

    def __call__(self, conn: Connection, subject: ErasedSubject) -> int:
        if _erasing.get() == (subject.tenant_id, subject.subject_id):
            return 0  # erase_subject deletes them itself, without the time bound
        scope_to_tenant(conn, subject.tenant_id)
        forgotten = forget_subject(
            conn,
            tenant_id=subject.tenant_id,
            subject_id=subject.subject_id,
            erased_at=subject.erased_at,
            keys=subject.keys,
            registry=self.registry,
            until=subject.erased_at,
        )
        return forgotten.total


erasure_hook = register_erasure_hook(DsrErasureHook())
