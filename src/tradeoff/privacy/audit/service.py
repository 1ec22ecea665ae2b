"""Appending to the audit chain, checkpointing it and pruning it.

``record`` runs inside the caller's transaction, so an audited change and its audit entry commit together
or not at all. Appends are serialized per tenant: on PostgreSQL with ``pg_advisory_xact_lock`` on the
tenant's chain; on SQLite the caller's ``write_transaction`` already holds the database write lock. The
``(tenant_id, seq)`` primary key turns any race that slips through into an error, never a fork.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from tradeoff.core.clock import Clock, SystemClock, ensure_utc
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.privacy.audit.chain import (
    GENESIS,
    AuditEntry,
    canonical_entry,
    check_action,
    check_actor,
    check_details,
    entry_mac,
    subject_ref,
)
from tradeoff.privacy.audit.signing import Checkpoint, CheckpointFile, SigningKeys
from tradeoff.privacy.audit.store import audit_checkpoints, audit_log
from tradeoff.privacy.keys import KeyProvider

_LOCK_CLASS = 0x61756474  # "audt": first half of the two-key advisory lock
PRUNED = "audit.pruned"


def _tenant_lock_id(tenant_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(tenant_id.encode(), digest_size=4).digest(), "big", signed=True)


def lock_chain(conn: Connection, tenant_id: str) -> None:
    """Serialize appends to one tenant's chain until the transaction ends (PostgreSQL; SQLite's write
    transaction is already exclusive)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :obj)"), {"cls": _LOCK_CLASS, "obj": _tenant_lock_id(tenant_id)}
        )


def chain_head(conn: Connection, tenant_id: str) -> tuple[int, bytes]:
    """``(seq, mac)`` of the newest entry; after a full prune, of the newest checkpoint; else ``(0, GENESIS)``."""
    for table in (audit_log, audit_checkpoints):
        row = conn.execute(
            select(table.c.seq, table.c.mac).where(table.c.tenant_id == tenant_id).order_by(table.c.seq.desc()).limit(1)
        ).first()
        if row is not None:
            return int(row.seq), bytes.fromhex(row.mac)
    return 0, GENESIS


def record(
    conn: Connection,
    *,
    keys: KeyProvider,
    tenant_id: str,
    actor: str,
    action: str,
    subject_id: str | None = None,
    details: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
) -> AuditEntry:
    """Append one entry to the tenant's chain inside ``conn``'s (write) transaction."""
    check_actor(actor)
    check_action(action)
    stored_details = check_details(details)
    ref = None if subject_id is None else subject_ref(keys, tenant_id, subject_id)
    recorded_at = ensure_utc((clock or SystemClock()).now())
    lock_chain(conn, tenant_id)
    head_seq, prev_mac = chain_head(conn, tenant_id)
    seq = head_seq + 1
    canonical = canonical_entry(
        tenant_id=tenant_id,
        seq=seq,
        recorded_at=recorded_at,
        actor=actor,
        action=action,
        subject_ref=ref,
        details=stored_details,
    )
    mac = entry_mac(keys, prev_mac=prev_mac, canonical=canonical, tenant_id=tenant_id).hex()
    entry = AuditEntry(tenant_id, seq, recorded_at, actor, action, ref, stored_details, prev_mac.hex(), mac)
    conn.execute(
        insert(audit_log).values(
            tenant_id=tenant_id,
            seq=seq,
            recorded_at=recorded_at,
            actor=actor,
            action=action,
            subject_ref=ref,
            details=stored_details,
            prev_mac=entry.prev_mac,
            mac=mac,
        )
    )
    return entry


def row_to_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        tenant_id=row.tenant_id,
        seq=int(row.seq),
        recorded_at=row.recorded_at,
        actor=row.actor,
        action=row.action,
        subject_ref=row.subject_ref,
        details=row.details if row.details is not None else {},
        prev_mac=row.prev_mac,
        mac=row.mac,
    )


def read_entries(conn: Connection, *, tenant_id: str, after_seq: int = 0, limit: int = 1000) -> list[AuditEntry]:
    query = (
        select(audit_log)
        .where(audit_log.c.tenant_id == tenant_id, audit_log.c.seq > after_seq)
        .order_by(audit_log.c.seq)
        .limit(limit)
    )
    return [row_to_entry(row) for row in conn.execute(query)]


def entries_for_subject(conn: Connection, *, keys: KeyProvider, tenant_id: str, subject_id: str) -> list[AuditEntry]:
    """A subject's audit history (for their access request): found by recomputing their reference."""
    ref = subject_ref(keys, tenant_id, subject_id)
    query = (
        select(audit_log)
        .where(audit_log.c.tenant_id == tenant_id, audit_log.c.subject_ref == ref)
        .order_by(audit_log.c.seq)
    )
    return [row_to_entry(row) for row in conn.execute(query)]


def row_to_checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(row.tenant_id, int(row.seq), row.mac, row.signed_at, row.key_id, row.signature)


def checkpoint(
    engine: Engine,
    tenant_id: str,
    *,
    signing: SigningKeys,
    file: CheckpointFile,
    clock: Clock | None = None,
) -> Checkpoint | None:
    """Sign the tenant's current head; store it in ``audit_checkpoints`` and, after the commit, append it
    to the off-database file. Returns None for an empty chain, or the existing checkpoint when the head is
    already checkpointed. Appending after the commit means the file never names an entry that rolled back."""
    with write_transaction(engine) as conn:
        scope_to_tenant(conn, tenant_id)
        lock_chain(conn, tenant_id)
        row = conn.execute(
            select(audit_log.c.seq, audit_log.c.mac)
            .where(audit_log.c.tenant_id == tenant_id)
            .order_by(audit_log.c.seq.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        existing = conn.execute(
            select(audit_checkpoints).where(
                audit_checkpoints.c.tenant_id == tenant_id, audit_checkpoints.c.seq == row.seq
            )
        ).first()
        if existing is not None:
            return row_to_checkpoint(existing)
        signed_at = ensure_utc((clock or SystemClock()).now())
        made = signing.sign(tenant_id=tenant_id, seq=int(row.seq), mac=row.mac, signed_at=signed_at)
        conn.execute(
            insert(audit_checkpoints).values(
                tenant_id=made.tenant_id,
                seq=made.seq,
                mac=made.mac,
                signed_at=made.signed_at,
                key_id=made.key_id,
                signature=made.signature,
            )
        )
    file.append(made)
    return made


def tenants_needing_checkpoint(engine: Engine, *, min_new_entries: int) -> list[str]:
    """Tenants whose newest entry is at least ``min_new_entries`` past their newest checkpoint (a
    cross-tenant read: on PostgreSQL it needs the owner connection, not the RLS-bound app role)."""
    last_checkpoint = (
        select(audit_checkpoints.c.tenant_id, func.max(audit_checkpoints.c.seq).label("seq"))
        .group_by(audit_checkpoints.c.tenant_id)
        .subquery()
    )
    heads = select(audit_log.c.tenant_id, func.max(audit_log.c.seq).label("seq")).group_by(audit_log.c.tenant_id)
    heads_sq = heads.subquery()
    query = (
        select(heads_sq.c.tenant_id)
        .select_from(heads_sq.outerjoin(last_checkpoint, last_checkpoint.c.tenant_id == heads_sq.c.tenant_id))
        .where(heads_sq.c.seq - func.coalesce(last_checkpoint.c.seq, 0) >= max(1, min_new_entries))
        .order_by(heads_sq.c.tenant_id)
    )
    with engine.connect() as conn:
        return [str(tenant) for tenant in conn.execute(query).scalars()]


def prune(
    engine: Engine,
    tenant_id: str,
    *,
    keys: KeyProvider,
    before: datetime,
    actor: str = "system",
    clock: Clock | None = None,
) -> int:
    """Delete the tenant's entries recorded before ``before``, but only up to a signed checkpoint (which
    anchors the first remaining entry) and never the newest entry. The prune itself is recorded in the
    chain (``audit.pruned`` with ``through_seq``), so ``verify`` can tell it from an attacker's deletion."""
    before = ensure_utc(before)
    with write_transaction(engine) as conn:
        scope_to_tenant(conn, tenant_id)
        lock_chain(conn, tenant_id)
        in_tenant = audit_log.c.tenant_id == tenant_id
        newest = conn.execute(select(func.max(audit_log.c.seq)).where(in_tenant)).scalar()
        if newest is None:
            return 0
        first_recent = conn.execute(
            select(func.min(audit_log.c.seq)).where(in_tenant, audit_log.c.recorded_at >= before)
        ).scalar()
        last_old = min(int(newest) - 1, int(first_recent) - 1 if first_recent is not None else int(newest))
        anchor = conn.execute(
            select(func.max(audit_checkpoints.c.seq)).where(
                audit_checkpoints.c.tenant_id == tenant_id, audit_checkpoints.c.seq <= last_old
            )
        ).scalar()
        if anchor is None:
            return 0
        removed = conn.execute(delete(audit_log).where(in_tenant, audit_log.c.seq <= anchor)).rowcount
        if removed:
            record(
                conn,
                keys=keys,
                tenant_id=tenant_id,
                actor=actor,
                action=PRUNED,
                details={"through_seq": int(anchor), "before": before.astimezone(UTC).isoformat()},
                clock=clock,
            )
        return int(removed)
