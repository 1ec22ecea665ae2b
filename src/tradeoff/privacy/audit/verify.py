"""Verifying the audit chain: names the first broken entry and what happened to it.

Per tenant: every checkpoint (off-database file and table) must carry a valid signature; walking the
entries in ``seq`` order, each must be contiguous, carry the MAC of its own content and link to its
predecessor's MAC; every valid checkpoint must match the entry it names; and the newest checkpoint must
not be past the end of the log (truncation). A gap at the head is accepted only when a signed checkpoint
anchors the first remaining entry and an authentic ``audit.pruned`` entry covers it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, select

from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.privacy.audit.chain import GENESIS, AuditEntry, mac_of
from tradeoff.privacy.audit.service import PRUNED, row_to_checkpoint, row_to_entry
from tradeoff.privacy.audit.signing import Checkpoint, CheckpointFile, SigningKeys
from tradeoff.privacy.audit.store import audit_checkpoints, audit_log
from tradeoff.privacy.keys import KeyProvider

_BATCH = 2000
_WINDOW = 8  # how far around a bad entry to look for the position it came from


class BreakKind(StrEnum):
    EDITED = "edited"  # an entry's content or MAC was changed
    DELETED = "deleted"  # entries are missing (a gap, or removed and the rest renumbered)
    INSERTED = "inserted"  # an entry that was never recorded there (forged or replayed)
    REORDERED = "reordered"  # authentic entries in the wrong order
    TRUNCATED = "truncated"  # the tail is gone: a signed checkpoint names an entry past the end
    BAD_SIGNATURE = "bad_checkpoint_signature"  # a checkpoint is forged, altered or unreadable
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"  # a validly signed checkpoint disagrees with the chain


@dataclass(frozen=True, slots=True)
class Break:
    seq: int
    kind: BreakKind
    message: str


@dataclass(frozen=True, slots=True)
class TenantReport:
    tenant_id: str
    entries: int  # entries checked
    first_seq: int | None
    last_seq: int | None
    checkpoints: int  # distinct valid checkpoints
    latest_checkpoint_seq: int | None
    broken: Break | None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def unanchored_entries(self) -> int:
        """Entries after the newest checkpoint: a cut of these alone is not detectable yet."""
        if self.last_seq is None:
            return 0
        return self.last_seq - (self.latest_checkpoint_seq or 0)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    tenants: tuple[TenantReport, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tenants)

    @property
    def first_break(self) -> tuple[str, Break] | None:
        for report in self.tenants:
            if report.broken is not None:
                return report.tenant_id, report.broken
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tenants": [
                {
                    **{k: v for k, v in asdict(t).items() if k != "broken"},
                    "ok": t.ok,
                    "unanchored_entries": t.unanchored_entries,
                    "broken": None if t.broken is None else {**asdict(t.broken), "kind": t.broken.kind.value},
                    "warnings": list(t.warnings),
                }
                for t in self.tenants
            ],
        }


def verify(
    engine: Engine,
    tenant_id: str | None = None,
    *,
    keys: KeyProvider,
    signing: SigningKeys,
    checkpoint_file: CheckpointFile,
) -> VerifyReport:
    """Check one tenant's chain, or every tenant found in the log, the table or the off-database file
    (finding them in the database is a cross-tenant read: use the owner connection on PostgreSQL)."""
    contents = checkpoint_file.read()
    trusted = signing.trusted_keys()
    with engine.connect() as conn:
        if tenant_id is None:
            found = set(conn.execute(select(audit_log.c.tenant_id).distinct()).scalars())
            found |= set(conn.execute(select(audit_checkpoints.c.tenant_id).distinct()).scalars())
            found |= {cp.tenant_id for cp in contents.checkpoints}
            tenant_ids = sorted(found)
        else:
            tenant_ids = [tenant_id]
        reports = []
        for tenant in tenant_ids:
            scope_to_tenant(conn, tenant)  # an RLS-bound role sees this tenant's rows; the owner sees all anyway
            check = _TenantCheck(conn, tenant, keys, signing, trusted, contents.checkpoints, contents.unreadable)
            reports.append(check.run())
    return VerifyReport(tuple(reports))


@dataclass
class _Walk:
    count: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    broken: Break | None = None
    macs: dict[int, str] = field(default_factory=dict)  # MACs of the entries that have checkpoints
    pruned_through: int = 0


class _TenantCheck:
    def __init__(
        self,
        conn: Connection,
        tenant_id: str,
        keys: KeyProvider,
        signing: SigningKeys,
        trusted: dict[str, Any],
        file_checkpoints: list[Checkpoint],
        unreadable_lines: list[int],
    ) -> None:
        self.conn = conn
        self.tenant_id = tenant_id
        self.keys = keys
        self.signing = signing
        self.trusted = trusted
        self.file_checkpoints = [cp for cp in file_checkpoints if cp.tenant_id == tenant_id]
        self.unreadable_lines = unreadable_lines
        self.breaks: list[Break] = []
        self.warnings: list[str] = []

    def run(self) -> TenantReport:
        valid = self._checkpoints()
        walk = self._walk(valid)
        if walk.broken is not None:
            self.breaks.append(walk.broken)
        for seq, cp in sorted(valid.items()):
            if walk.broken is not None and seq >= walk.broken.seq:
                break
            if seq in walk.macs and walk.macs[seq] != cp.mac:
                self.breaks.append(
                    Break(seq, BreakKind.CHECKPOINT_MISMATCH, f"entry {seq} differs from its signed checkpoint")
                )
        if walk.first_seq is not None and walk.first_seq > 1 and walk.broken is None:
            self._check_head(walk.first_seq, valid, walk.pruned_through)
        latest = max(valid) if valid else None
        if walk.broken is None and latest is not None and (walk.last_seq is None or latest > walk.last_seq):
            end = walk.last_seq or 0
            message = f"a signed checkpoint names entry {latest} but the log ends at {end or 'nothing'}"
            self.breaks.append(Break(end + 1, BreakKind.TRUNCATED, message))
        broken = min(self.breaks, key=lambda b: b.seq) if self.breaks else None
        return TenantReport(
            self.tenant_id,
            walk.count,
            walk.first_seq,
            walk.last_seq,
            len(valid),
            latest,
            broken,
            tuple(self.warnings),
        )

    def _checkpoints(self) -> dict[int, Checkpoint]:
        """Valid checkpoints by seq; invalid ones become BAD_SIGNATURE breaks."""
        rows = self.conn.execute(
            select(audit_checkpoints)
            .where(audit_checkpoints.c.tenant_id == self.tenant_id)
            .order_by(audit_checkpoints.c.seq)
        )
        from_db = [row_to_checkpoint(row) for row in rows]
        in_file = {(cp.seq, cp.mac, cp.signature) for cp in self.file_checkpoints}
        for cp in from_db:
            if (cp.seq, cp.mac, cp.signature) not in in_file:
                self.warnings.append(f"checkpoint {cp.seq} is in the database but not in the off-database file")
        for line in self.unreadable_lines:
            self.warnings.append(f"line {line} of the off-database checkpoint file is not a checkpoint")
        valid: dict[int, Checkpoint] = {}
        seen: set[tuple[int, str, str]] = set()
        for source, cp in [("file", cp) for cp in self.file_checkpoints] + [("table", cp) for cp in from_db]:
            if (cp.seq, cp.mac, cp.signature) in seen:
                continue
            seen.add((cp.seq, cp.mac, cp.signature))
            problem = self.signing.check(cp, self.trusted)
            if problem is not None:
                self.breaks.append(Break(cp.seq, BreakKind.BAD_SIGNATURE, f"checkpoint {cp.seq} ({source}): {problem}"))
                continue
            other = valid.get(cp.seq)
            if other is not None and other.mac != cp.mac:
                self.breaks.append(
                    Break(cp.seq, BreakKind.CHECKPOINT_MISMATCH, f"two signed checkpoints disagree on entry {cp.seq}")
                )
                continue
            valid[cp.seq] = cp
        return valid

    def _entries(self) -> Iterator[AuditEntry]:
        after = -1
        while True:
            query = (
                select(audit_log)
                .where(audit_log.c.tenant_id == self.tenant_id, audit_log.c.seq > after)
                .order_by(audit_log.c.seq)
                .limit(_BATCH)
            )
            batch = [row_to_entry(row) for row in self.conn.execute(query)]
            yield from batch
            if len(batch) < _BATCH:
                return
            after = batch[-1].seq

    def _walk(self, valid: dict[int, Checkpoint]) -> _Walk:
        walk = _Walk()
        prev_mac = GENESIS.hex()
        expected = 1
        for entry in self._entries():
            if walk.first_seq is None:
                walk.first_seq = entry.seq
                if entry.seq > 1:  # pruned (or deleted) head: start from the checkpoint before it, if any
                    anchor = valid.get(entry.seq - 1)
                    prev_mac = anchor.mac if anchor is not None else entry.prev_mac
                    expected = entry.seq
            if entry.seq != expected:
                gap = f"{expected}" if entry.seq == expected + 1 else f"{expected}..{entry.seq - 1}"
                walk.broken = Break(expected, BreakKind.DELETED, f"entries {gap} are missing")
                return walk
            if mac_of(self.keys, entry) != entry.mac:
                walk.broken = self._classify(entry, prev_mac)
                return walk
            if entry.prev_mac != prev_mac:
                message = f"entry {entry.seq} is authentic but does not follow entry {entry.seq - 1}"
                walk.broken = Break(entry.seq, BreakKind.REORDERED, message)
                return walk
            through = entry.details.get("through_seq") if entry.action == PRUNED else None
            if isinstance(through, int):
                walk.pruned_through = max(walk.pruned_through, through)
            if entry.seq in valid:
                walk.macs[entry.seq] = entry.mac
            walk.count += 1
            walk.last_seq = entry.seq
            prev_mac = entry.mac
            expected = entry.seq + 1
        return walk

    def _check_head(self, first_seq: int, valid: dict[int, Checkpoint], pruned_through: int) -> None:
        anchor = valid.get(first_seq - 1)
        if anchor is None or pruned_through < first_seq - 1:
            start = pruned_through + 1 if pruned_through else 1
            reason = "no signed checkpoint anchors" if anchor is None else "no recorded prune covers"
            self.breaks.append(
                Break(start, BreakKind.DELETED, f"entries {start}..{first_seq - 1} are missing ({reason} them)")
            )

    def _classify(self, entry: AuditEntry, prev_mac: str) -> Break:
        """Entry ``e`` fails its MAC. Was it moved, inserted or edited?"""
        e = entry.seq
        origin = self._authentic_position(entry)
        if origin is not None and origin > e:
            if any(mac_of(self.keys, other, seq=e) == other.mac for other in self._successors_of(prev_mac)):
                return Break(e, BreakKind.REORDERED, f"entry {origin} was moved to position {e}")
            return Break(e, BreakKind.DELETED, f"entry {e} is missing; later entries were renumbered")
        if origin is not None and origin < e:
            return Break(e, BreakKind.INSERTED, f"entry {e} is a copy of entry {origin}")
        following = self._after(e, 1)
        if following:
            nxt = following[0]
            if nxt.prev_mac == prev_mac and mac_of(self.keys, nxt, seq=nxt.seq - 1) == nxt.mac:
                return Break(e, BreakKind.INSERTED, f"entry {e} was inserted; later entries were renumbered")
        return Break(e, BreakKind.EDITED, f"entry {e} does not match its MAC (content or MAC changed, or forged)")

    def _authentic_position(self, entry: AuditEntry) -> int | None:
        """The position at which ``entry`` would be authentic, if near its current one or after its predecessor."""
        candidates = [s for s in range(entry.seq - _WINDOW, entry.seq + _WINDOW + 1) if s >= 1 and s != entry.seq]
        if entry.prev_mac == GENESIS.hex():
            candidates.insert(0, 1)
        predecessor = self.conn.execute(
            select(audit_log.c.seq).where(audit_log.c.tenant_id == self.tenant_id, audit_log.c.mac == entry.prev_mac)
        ).scalar()
        if predecessor is not None:
            candidates.insert(0, int(predecessor) + 1)
        for seq in candidates:
            if seq != entry.seq and mac_of(self.keys, entry, seq=seq) == entry.mac:
                return seq
        return None

    def _successors_of(self, mac: str) -> list[AuditEntry]:
        """Entries anywhere in the tenant's log that claim to follow the entry with ``mac``."""
        query = select(audit_log).where(audit_log.c.tenant_id == self.tenant_id, audit_log.c.prev_mac == mac)
        return [row_to_entry(row) for row in self.conn.execute(query)]

    def _after(self, seq: int, limit: int) -> list[AuditEntry]:
        query = (
            select(audit_log)
            .where(audit_log.c.tenant_id == self.tenant_id, audit_log.c.seq > seq)
            .order_by(audit_log.c.seq)
            .limit(limit)
        )
        return [row_to_entry(row) for row in self.conn.execute(query)]
