"""Audit chain on SQLite and PostgreSQL: verify passes on a clean chain and names the first broken entry
for edits, deletions, insertions, reordering, a truncated tail and forged checkpoints."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text, update

from tradeoff.core.clock import FixedClock
from tradeoff.core.errors import InvalidInput
from tradeoff.platform.db.engine import write_transaction
from tradeoff.privacy.audit import Action, AuditTrail, BreakKind, CheckpointFile, SigningKeys
from tradeoff.privacy.audit.service import entries_for_subject, read_entries
from tradeoff.privacy.audit.store import audit_checkpoints, audit_log
from tradeoff.privacy.keys import LocalKeyProvider

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def trail(tmp_path: Path, clock: FixedClock) -> AuditTrail:
    directory = tmp_path / "keys"
    return AuditTrail(
        keys=LocalKeyProvider(directory / "keyring.json"),
        signing=SigningKeys(directory),
        checkpoint_file=CheckpointFile(directory / "audit-checkpoints.jsonl"),
        clock=clock,
        checkpoint_every=5,
    )


def _record(engine: Engine, trail: AuditTrail, clock: FixedClock, n: int, tenant: str = "t1") -> None:
    actions = [Action.CONSENT_CHANGED, Action.PERSONAL_READ, Action.DSR_EXPORT, Action.KEY_ROTATE]
    for i in range(n):
        clock.advance(timedelta(minutes=1))
        with write_transaction(engine) as conn:
            trail.record(
                conn,
                tenant_id=tenant,
                actor=f"user-{i % 3}",
                action=actions[i % len(actions)],
                subject_id=f"subject-{i % 4}",
                details={"i": i, "purpose": "analytics"},
            )


def _broken(engine: Engine, trail: AuditTrail, tenant: str = "t1") -> tuple[int, BreakKind]:
    report = trail.verify(engine, tenant)
    found = report.tenants[0].broken
    assert found is not None, "verify passed on a tampered chain"
    return found.seq, found.kind


def _set_seq(engine: Engine, tenant: str, old: int, new: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.tenant_id == tenant, audit_log.c.seq == old).values(seq=new))


def test_clean_chains_verify_per_tenant(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 12, "t1")
    _record(engine, trail, clock, 3, "t2")
    trail.checkpoint(engine, "t1")
    report = trail.verify(engine)
    assert report.ok, report.to_dict()
    assert [(t.tenant_id, t.entries, t.last_seq) for t in report.tenants] == [("t1", 12, 12), ("t2", 3, 3)]
    assert report.tenants[0].latest_checkpoint_seq == 12 and report.tenants[0].unanchored_entries == 0
    assert report.tenants[1].unanchored_entries == 3
    with engine.connect() as conn:
        entries = read_entries(conn, tenant_id="t1")
        assert [e.seq for e in entries] == list(range(1, 13))
        assert entries[0].prev_mac == "00" * 32 and entries[1].prev_mac == entries[0].mac
        stored = conn.execute(select(audit_log.c.subject_ref)).scalars().all()
        assert all(ref is not None and "subject" not in ref for ref in stored)  # never the raw id
        mine = entries_for_subject(conn, keys=trail.keys, tenant_id="t1", subject_id="subject-1")
        assert [e.seq for e in mine] == [2, 6, 10]


def test_record_joins_the_callers_transaction(engine: Engine, trail: AuditTrail) -> None:
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        trail.record(conn, tenant_id="t1", actor="system", action=Action.DSR_ERASE, details={"tables": 4})
        raise RuntimeError("the erasure failed")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar() == 0
    with write_transaction(engine) as conn, pytest.raises(InvalidInput):
        trail.record(conn, tenant_id="t1", actor="system", action="dsr.erase", details={"email": "a@b.co"})


def test_edited_entry_is_named(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 8)
    with engine.begin() as conn:
        conn.execute(
            update(audit_log).where(audit_log.c.seq == 4).values(details={"i": 3, "purpose": "personalization"})
        )
    assert _broken(engine, trail) == (4, BreakKind.EDITED)


def test_edited_actor_and_recomputed_sha_are_named(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 6)
    with engine.begin() as conn:  # an attacker can change a row and put any MAC they like next to it
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="someone-else", mac="11" * 32))
    assert _broken(engine, trail) == (2, BreakKind.EDITED)


def test_deleted_middle_entry_is_named(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 8)
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
    assert _broken(engine, trail) == (5, BreakKind.DELETED)


def test_deleted_and_renumbered_entries_are_named(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 8)
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
    for seq in range(6, 9):
        _set_seq(engine, "t1", seq, seq - 1)
    assert _broken(engine, trail) == (5, BreakKind.DELETED)


def test_reordered_entries_are_named(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 8)
    _set_seq(engine, "t1", 3, -1)  # swap entries 3 and 4
    _set_seq(engine, "t1", 4, 3)
    _set_seq(engine, "t1", -1, 4)
    assert _broken(engine, trail) == (3, BreakKind.REORDERED)


def test_entries_swapped_far_apart_are_reordered(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 30)
    _set_seq(engine, "t1", 3, -1)
    _set_seq(engine, "t1", 27, 3)
    _set_seq(engine, "t1", -1, 27)
    seq, kind = _broken(engine, trail)
    assert (seq, kind) == (3, BreakKind.REORDERED)
    assert "entry 27 was moved to position 3" in (trail.verify(engine, "t1").tenants[0].broken or pytest.fail()).message


def test_inserted_entry_is_named(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 6)
    for seq in range(6, 3, -1):  # make room after entry 3
        _set_seq(engine, "t1", seq, seq + 1)
    with engine.begin() as conn:
        prev = conn.execute(select(audit_log.c.mac).where(audit_log.c.seq == 3)).scalar_one()
        conn.execute(
            insert(audit_log).values(
                tenant_id="t1",
                seq=4,
                recorded_at=T0,
                actor="intruder",
                action="consent.changed",
                subject_ref=None,
                details={"granted": True},
                prev_mac=prev,
                mac="22" * 32,
            )
        )
    assert _broken(engine, trail) == (4, BreakKind.INSERTED)


def test_replayed_entry_is_named(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 4)
    with engine.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.seq == 2)).one()._asdict()
        conn.execute(insert(audit_log).values({**row, "seq": 5}))  # a copy of entry 2 appended as entry 5
    assert _broken(engine, trail) == (5, BreakKind.INSERTED)


def test_truncated_tail_is_caught_by_the_off_database_checkpoint(
    engine: Engine, trail: AuditTrail, clock: FixedClock
) -> None:
    _record(engine, trail, clock, 10)
    checkpoint = trail.checkpoint(engine, "t1")
    assert checkpoint is not None and checkpoint.seq == 10
    assert trail.verify(engine, "t1").ok
    with engine.begin() as conn:  # cut the tail and the database's own copy of the checkpoint
        conn.execute(delete(audit_log).where(audit_log.c.seq > 7))
        conn.execute(delete(audit_checkpoints))
    assert _broken(engine, trail) == (8, BreakKind.TRUNCATED)
    with engine.begin() as conn:  # the whole log of a tenant
        conn.execute(delete(audit_log))
    assert _broken(engine, trail) == (1, BreakKind.TRUNCATED)
    assert [t.tenant_id for t in trail.verify(engine).tenants] == ["t1"]  # found through the file alone


def test_forged_checkpoint_signatures_are_named(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 6)
    trail.checkpoint(engine, "t1")
    with engine.begin() as conn:  # rewrite the table's checkpoint to claim a shorter log
        conn.execute(update(audit_checkpoints).values(seq=3))
    seq, kind = _broken(engine, trail)
    assert (seq, kind) == (3, BreakKind.BAD_SIGNATURE)
    with engine.begin() as conn:
        conn.execute(update(audit_checkpoints).values(seq=6))
    assert trail.verify(engine, "t1").ok
    lines = trail.checkpoint_file.path.read_text().splitlines()
    forged = lines[0].replace('"seq":6', '"seq":9')
    trail.checkpoint_file.path.write_text("\n".join([*lines, forged]) + "\n")
    assert _broken(engine, trail) == (9, BreakKind.BAD_SIGNATURE)


def test_checkpoint_signed_by_a_stranger_is_refused(
    engine: Engine, trail: AuditTrail, clock: FixedClock, tmp_path: Path
) -> None:
    _record(engine, trail, clock, 3)
    with engine.connect() as conn:
        head = conn.execute(select(audit_log.c.mac).where(audit_log.c.seq == 3)).scalar_one()
    stranger = SigningKeys(tmp_path / "attacker").sign(tenant_id="t1", seq=3, mac=head, signed_at=T0)
    trail.checkpoint_file.append(stranger)
    seq, kind = _broken(engine, trail)
    assert (seq, kind) == (3, BreakKind.BAD_SIGNATURE)
    assert "unknown key" in (trail.verify(engine, "t1").tenants[0].broken or pytest.fail()).message


def test_checkpoint_every_n_and_on_demand(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    from tradeoff.privacy.audit import AuditCheckpointer

    checkpointer = AuditCheckpointer(trail, engine, interval_seconds=3600)
    _record(engine, trail, clock, 4)
    assert trail.take_due() == []
    _record(engine, trail, clock, 1)  # entry 5: due (checkpoint_every=5)
    made = checkpointer.run_once(min_new_entries=5)
    assert [(c.tenant_id, c.seq) for c in made] == [("t1", 5)]
    assert checkpointer.run_once(min_new_entries=5) == []
    _record(engine, trail, clock, 2)
    assert trail.checkpoint(engine, "t1") is not None
    again = trail.checkpoint(engine, "t1")
    assert again is not None and again.seq == 7  # the existing checkpoint, not a new one
    assert len(trail.checkpoint_file.read().checkpoints) == 2
    assert trail.checkpoint(engine, "nobody") is None
    checkpointer.start()
    assert checkpointer.connected
    checkpointer.stop()
    assert not checkpointer.connected


def test_prune_keeps_the_chain_verifiable(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 6)
    trail.checkpoint(engine, "t1")  # anchor at 6
    clock.advance(timedelta(days=10))
    _record(engine, trail, clock, 3)
    assert trail.prune(engine, "t1", before=T0 + timedelta(days=5)) == 6
    report = trail.verify(engine, "t1")
    assert report.ok, report.to_dict()
    assert report.tenants[0].first_seq == 7
    with engine.connect() as conn:
        last = read_entries(conn, tenant_id="t1")[-1]
    assert last.action == "audit.pruned" and last.details["through_seq"] == 6
    # Without a recorded prune, a missing head is a deletion even when a checkpoint would anchor it.
    with engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq <= 8))
    assert _broken(engine, trail) == (7, BreakKind.DELETED)


def test_nothing_to_prune_without_a_checkpoint(engine: Engine, trail: AuditTrail, clock: FixedClock) -> None:
    _record(engine, trail, clock, 3)
    assert trail.prune(engine, "t1", before=T0 + timedelta(days=365)) == 0
    assert trail.verify(engine, "t1").ok


def test_concurrent_appends_form_one_chain(engine: Engine, trail: AuditTrail) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                with write_transaction(engine) as conn:
                    trail.record(conn, tenant_id="t1", actor=f"w{n}", action="personal.read", details={"i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = trail.verify(engine, "t1")
    assert report.ok and report.tenants[0].last_seq == 60


def test_postgres_lock_is_per_tenant(engine: Engine, trail: AuditTrail) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    with engine.begin() as holder:
        trail.record(holder, tenant_id="t1", actor="system", action="key.rotate")
        with engine.begin() as other:  # another tenant is not blocked by t1's open transaction
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
            trail.record(other, tenant_id="t2", actor="system", action="key.rotate")
    assert trail.verify(engine).ok
