"""The vault on SQLite and PostgreSQL: envelope encryption per subject, KEK rotation, crypto-shredding,
and the erasure ledger replayed after a backup restore."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from tests.unit.privacy.vault.fake_transit import FakeTransit
from tradeoff.core.clock import utcnow
from tradeoff.platform.container import build_platform
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.registry import all_metadata
from tradeoff.platform.settings import Settings
from tradeoff.privacy.keys import KeyProvider, KeyringError, LocalKeyProvider, WrappedKey
from tradeoff.privacy.vault import (
    DecryptionError,
    ErasedSubject,
    ErasureLedger,
    SubjectKeyDestroyed,
    Vault,
)
from tradeoff.privacy.vault.capability import register
from tradeoff.privacy.vault.config import build_vault
from tradeoff.privacy.vault.store import subject_keys
from tradeoff.privacy.vault.vault_transit import VaultTransitKeyProvider

T1, T2 = "tenant-one", "tenant-two"
WHERE = {"table": "profiles", "column": "email", "row_id": "r1"}


class CountingProvider:
    """A LocalKeyProvider that counts unwraps (the cache should spare most of them)."""

    def __init__(self, path: Path) -> None:
        self.inner = LocalKeyProvider(path)
        self.unwraps = 0

    def wrap(self, tenant_id: str, key: bytes) -> WrappedKey:
        return self.inner.wrap(tenant_id, key)

    def unwrap(self, tenant_id: str, wrapped: WrappedKey) -> bytes:
        self.unwraps += 1
        return self.inner.unwrap(tenant_id, wrapped)

    def current_version(self, tenant_id: str) -> int:
        return self.inner.current_version(tenant_id)

    def rotate(self, tenant_id: str) -> int:
        return self.inner.rotate(tenant_id)

    def mac(self, tenant_id: str, purpose: str, data: bytes) -> bytes:
        return self.inner.mac(tenant_id, purpose, data)


@pytest.fixture
def keyring(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "keyring.json"


def make_vault(engine: Engine, keyring: Path, provider: KeyProvider | None = None, **kwargs: object) -> Vault:
    provider = provider or LocalKeyProvider(keyring)
    ledger = ErasureLedger(keyring.parent / "erasures.log", provider)
    return Vault(engine, provider, ledger=ledger, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def vault(engine: Engine, keyring: Path) -> Vault:
    return make_vault(engine, keyring)


def key_rows(engine: Engine, tenant_id: str | None = None) -> list[tuple[str, str, int, int]]:
    query = select(
        subject_keys.c.tenant_id, subject_keys.c.subject_id, subject_keys.c.key_version, subject_keys.c.kek_version
    )
    if tenant_id is not None:
        query = query.where(subject_keys.c.tenant_id == tenant_id)
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query.order_by(subject_keys.c.subject_id))]  # type: ignore[misc]


# --- envelope encryption -----------------------------------------------------------------------------


def test_round_trip_creates_one_key_per_subject(engine: Engine, keyring: Path) -> None:
    provider = CountingProvider(keyring)
    vault = make_vault(engine, keyring, provider)
    first = vault.encrypt_text(T1, "alice", "alice@example.com", **WHERE)
    assert b"alice" not in first
    for row in range(20):
        vault.encrypt(T1, "alice", b"x", table="profiles", column="phone", row_id=row)
    assert vault.decrypt_text(T1, "alice", first, **WHERE) == "alice@example.com"
    assert key_rows(engine) == [(T1, "alice", 1, 1)]
    assert provider.unwraps == 0  # the key created here was cached, never unwrapped


def test_a_fresh_process_decrypts_from_the_database(engine: Engine, keyring: Path, vault: Vault) -> None:
    ciphertext = vault.encrypt(T1, "alice", b"secret", **WHERE)
    provider = CountingProvider(keyring)
    fresh = make_vault(engine, keyring, provider)
    for _ in range(5):
        assert fresh.decrypt(T1, "alice", ciphertext, **WHERE) == b"secret"
    assert provider.unwraps == 1


@pytest.mark.parametrize(
    "moved",
    [
        {"tenant_id": T2},
        {"subject_id": "bob"},
        {"table": "orders"},
        {"column": "phone"},
        {"row_id": "r2"},
    ],
)
def test_moved_ciphertext_is_rejected(vault: Vault, moved: dict[str, str]) -> None:
    ciphertext = vault.encrypt(T1, "alice", b"alice@example.com", **WHERE)
    vault.encrypt(T1, "bob", b"bob's", **WHERE)  # bob and tenant two have keys too
    vault.encrypt(T2, "alice", b"other tenant", **WHERE)
    where = {"tenant_id": T1, "subject_id": "alice", **WHERE, **moved}
    tenant_id, subject_id = where.pop("tenant_id"), where.pop("subject_id")
    with pytest.raises(DecryptionError):
        vault.decrypt(tenant_id, subject_id, ciphertext, **where)


def test_tampered_ciphertext_is_rejected(vault: Vault) -> None:
    ciphertext = bytearray(vault.encrypt(T1, "alice", b"alice@example.com", **WHERE))
    ciphertext[-1] ^= 0x01
    with pytest.raises(DecryptionError, match="failed authentication"):
        vault.decrypt(T1, "alice", bytes(ciphertext), **WHERE)
    ciphertext[-1] ^= 0x01
    ciphertext[5] ^= 0x04  # key_version 1 → 5: a generation alice never had
    with pytest.raises(SubjectKeyDestroyed):
        vault.decrypt(T1, "alice", bytes(ciphertext), **WHERE)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plaintext=st.binary(max_size=512), data=st.data())
def test_service_rejects_any_bit_flip(vault: Vault, plaintext: bytes, data: st.DataObject) -> None:
    ciphertext = bytearray(vault.encrypt(T1, "alice", plaintext, **WHERE))
    assert vault.decrypt(T1, "alice", bytes(ciphertext), **WHERE) == plaintext
    bit = data.draw(st.integers(min_value=0, max_value=len(ciphertext) * 8 - 1))
    ciphertext[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError):
        vault.decrypt(T1, "alice", bytes(ciphertext), **WHERE)


def test_concurrent_first_use_makes_one_key(engine: Engine, keyring: Path) -> None:
    vaults = [make_vault(engine, keyring) for _ in range(6)]  # as if six processes
    results: list[bytes] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(vaults))

    def work(vault: Vault) -> None:
        try:
            barrier.wait()
            results.append(vault.encrypt(T1, "carol", b"hello", **WHERE))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(v,)) for v in vaults]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert key_rows(engine) == [(T1, "carol", 1, 1)]
    fresh = make_vault(engine, keyring)
    assert [fresh.decrypt(T1, "carol", c, **WHERE) for c in results] == [b"hello"] * len(vaults)


def test_inside_the_callers_write_transaction(engine: Engine, vault: Vault) -> None:
    """A processor holding a write transaction can encrypt (no second writer waiting on SQLite)."""
    with write_transaction(engine) as conn:
        ciphertext = vault.encrypt(T1, "dave", b"in txn", conn=conn, **WHERE)
        assert vault.decrypt(T1, "dave", ciphertext, conn=conn, **WHERE) == b"in txn"
    assert vault.decrypt(T1, "dave", ciphertext, **WHERE) == b"in txn"


def test_a_rolled_back_key_is_never_used_afterwards(engine: Engine, vault: Vault) -> None:
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        vault.encrypt(T1, "erin", b"lost", conn=conn, **WHERE)
        raise RuntimeError("the caller's transaction fails")
    assert key_rows(engine) == []
    ciphertext = vault.encrypt(T1, "erin", b"kept", **WHERE)
    assert (
        make_vault(engine, vault.ledger.path.parent / "keyring.json").decrypt(T1, "erin", ciphertext, **WHERE)
        == b"kept"
    )


def test_subject_key_rotation_keeps_old_data_readable(engine: Engine, keyring: Path, vault: Vault) -> None:
    old = vault.encrypt(T1, "alice", b"old", **WHERE)
    assert vault.rotate_subject_key(T1, "alice") == 2
    new = vault.encrypt(T1, "alice", b"new", **WHERE)
    assert new[2:6] == (2).to_bytes(4, "big")
    fresh = make_vault(engine, keyring)
    assert fresh.decrypt(T1, "alice", old, **WHERE) == b"old"
    assert fresh.decrypt(T1, "alice", new, **WHERE) == b"new"


def test_unsafe_keyring_stops_encryption(engine: Engine, keyring: Path) -> None:
    LocalKeyProvider(keyring).current_version(T1)
    keyring.chmod(0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        make_vault(engine, keyring).encrypt(T1, "alice", b"x", **WHERE)


# --- KEK rotation -------------------------------------------------------------------------------------


def seed(vault: Vault, tenant_id: str, count: int) -> dict[str, bytes]:
    return {f"s{i:03d}": vault.encrypt(tenant_id, f"s{i:03d}", f"data {i}".encode(), **WHERE) for i in range(count)}


def test_rotation_rewraps_every_key_and_old_data_still_decrypts(engine: Engine, keyring: Path, vault: Vault) -> None:
    data = seed(vault, T1, 45)
    other = seed(vault, T2, 3)
    progress: list[tuple[int, int]] = []
    report = vault.rotate_kek(T1, batch_size=7, on_progress=lambda done, total: progress.append((done, total)))
    assert (report.kek_version, report.total, report.rewrapped, report.failed, report.remaining) == (2, 45, 45, 0, 0)
    assert report.complete
    assert progress[0] == (0, 45) and progress[-1] == (45, 45) and len(progress) == 8
    assert {row[3] for row in key_rows(engine, T1)} == {2}
    assert {row[3] for row in key_rows(engine, T2)} == {1}  # another tenant is untouched

    # Remove KEK version 1 from the keyring: only a real re-wrap lets a fresh process decrypt now.
    document = json.loads(keyring.read_text())
    del document["tenants"][T1]["keks"]["1"]
    keyring.write_text(json.dumps(document))
    fresh = make_vault(engine, keyring)
    for subject_id, ciphertext in data.items():
        assert fresh.decrypt(T1, subject_id, ciphertext, **WHERE) == f"data {int(subject_id[1:])}".encode()
    assert fresh.decrypt(T2, "s000", other["s000"], **WHERE) == b"data 0"
    assert fresh.encrypt(T1, "new-subject", b"x", **WHERE)  # new keys wrap under version 2
    assert key_rows(engine, T1)[-1][3] == 2


def test_rotation_resumes_after_an_interruption(engine: Engine, vault: Vault) -> None:
    seed(vault, T1, 10)
    vault.provider.rotate(T1)  # a run that died right after creating the new KEK version
    report = vault.rotate_kek(T1, new_version=False, batch_size=3)
    assert (report.kek_version, report.rewrapped, report.remaining) == (2, 10, 0)
    again = vault.rotate_kek(T1, new_version=False)
    assert (again.total, again.rewrapped) == (0, 0)


def test_rotation_while_the_platform_keeps_writing(engine: Engine, keyring: Path, vault: Vault) -> None:
    data = seed(vault, T1, 30)
    writer = make_vault(engine, keyring)  # another "process" encrypting for new subjects meanwhile
    written: dict[str, bytes] = {}
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set() and n < 200:
            written[f"w{n:03d}"] = writer.encrypt(T1, f"w{n:03d}", b"during", **WHERE)
            n += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        report = vault.rotate_kek(T1, batch_size=5)
    finally:
        stop.set()
        thread.join()
    assert report.failed == 0
    if report.remaining:  # keys another process wrapped under the old KEK after we passed them
        assert vault.rotate_kek(T1, new_version=False).remaining == 0
    fresh = make_vault(engine, keyring)
    for subject_id, ciphertext in {**data, **written}.items():
        fresh.decrypt(T1, subject_id, ciphertext, **WHERE)
    assert {row[3] for row in key_rows(engine, T1)} == {2}


def test_rotation_reports_keys_that_do_not_unwrap(engine: Engine, vault: Vault) -> None:
    seed(vault, T1, 3)
    with write_transaction(engine) as conn:
        conn.execute(update(subject_keys).where(subject_keys.c.subject_id == "s001").values(wrapped_dek=b"x" * 40))
    report = vault.rotate_kek(T1)
    assert (report.rewrapped, report.failed, report.remaining) == (2, 1, 1)
    assert not report.complete


def test_rotation_skips_a_subject_shredded_meanwhile(engine: Engine, keyring: Path) -> None:
    """A subject erased between the batch read and its update stays erased (the update does not apply)."""
    provider = LocalKeyProvider(keyring)
    vault = make_vault(engine, keyring, provider)
    seed(vault, T1, 3)
    original_rewrap = provider.rewrap

    def rewrap_while_an_erasure_happens(tenant_id: str, wrapped: WrappedKey) -> WrappedKey:
        with write_transaction(engine) as conn:
            conn.execute(delete(subject_keys).where(subject_keys.c.subject_id == "s002"))
        return original_rewrap(tenant_id, wrapped)

    provider.rewrap = rewrap_while_an_erasure_happens  # type: ignore[method-assign]
    report = vault.rotate_kek(T1)
    assert (report.total, report.rewrapped, report.skipped, report.remaining) == (3, 2, 1, 0)
    assert [row[1] for row in key_rows(engine, T1)] == ["s000", "s001"]


def test_rotation_through_vault_transit_uses_rewrap(engine: Engine, keyring: Path) -> None:
    transit = FakeTransit()
    provider = VaultTransitKeyProvider("https://vault.test", "s.root", transport=httpx.MockTransport(transit.handler))
    vault = make_vault(engine, keyring, provider)
    data = seed(vault, T1, 4)
    report = vault.rotate_kek(T1)
    assert (report.kek_version, report.rewrapped) == (2, 4)
    assert sum(r.url.path.endswith("/rewrap/tradeoff-tenant-one") for r in transit.requests) == 4
    fresh = make_vault(engine, keyring, provider)
    assert fresh.decrypt(T1, "s002", data["s002"], **WHERE) == b"data 2"
    assert vault.tokenize(T1, "email", "A@B.example") == fresh.tokenize(T1, "email", "a@b.example")


# --- crypto-shredding and the erasure ledger ----------------------------------------------------------


def test_shred_makes_the_subject_undecryptable_at_once(engine: Engine, keyring: Path, vault: Vault) -> None:
    alice = vault.encrypt(T1, "alice", b"alice@example.com", **WHERE)
    bob = vault.encrypt(T1, "bob", b"bob@example.com", **WHERE)
    vault.rotate_subject_key(T1, "alice")
    alice_v2 = vault.encrypt(T1, "alice", b"newer", **WHERE)
    assert vault.decrypt(T1, "alice", alice, **WHERE) == b"alice@example.com"  # cached now

    report = vault.shred(T1, "alice")

    assert report.keys_deleted == 2
    for ciphertext in (alice, alice_v2):
        with pytest.raises(SubjectKeyDestroyed, match="erased"):
            vault.decrypt(T1, "alice", ciphertext, **WHERE)  # the cache was dropped too
    assert vault.decrypt(T1, "bob", bob, **WHERE) == b"bob@example.com"
    assert [row[1] for row in key_rows(engine)] == ["bob"]
    entries = vault.ledger.entries()
    assert [(e.tenant_id, e.subject_mac) for e in entries] == [(T1, vault.ledger.subject_mac(T1, "alice"))]
    assert b"alice" not in vault.ledger.path.read_bytes()


def test_shred_runs_the_erasure_hooks_in_its_transaction(engine: Engine, keyring: Path) -> None:
    seen: list[tuple[str, str]] = []

    def hook(conn: Connection, subject: ErasedSubject) -> int:
        assert conn.in_transaction()
        seen.append((subject.tenant_id, subject.subject_id))
        return 3

    vault = make_vault(engine, keyring, hooks=[hook])
    vault.encrypt(T1, "alice", b"x", **WHERE)
    report = vault.shred(T1, "alice")
    assert (report.keys_deleted, report.derived_rows_deleted) == (1, 3)
    assert seen == [(T1, "alice")]


def _backup(engine: Engine, database_url: str, target: Path) -> list[dict[str, object]]:
    """SQLite: an online copy of the whole database file. PostgreSQL: a snapshot of the key rows."""
    if engine.dialect.name == "sqlite":
        import sqlite3

        source = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        copy = sqlite3.connect(target)
        source.backup(copy)
        copy.close()
        source.close()
        return []
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(subject_keys))]


def _restore(engine: Engine, database_url: str, backup: Path, rows: list[dict[str, object]]) -> None:
    if engine.dialect.name == "sqlite":
        import sqlite3

        engine.dispose()
        live = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        old = sqlite3.connect(backup)
        old.backup(live)
        old.close()
        live.close()
        return
    with write_transaction(engine) as conn:
        conn.execute(delete(subject_keys))
        conn.execute(insert(subject_keys), rows)


def test_restoring_an_old_backup_then_replaying_keeps_the_subject_erased(
    engine: Engine, database_url: str, keyring: Path, tmp_path: Path
) -> None:
    vault = make_vault(engine, keyring)
    alice = vault.encrypt(T1, "alice", b"alice@example.com", **WHERE)
    bob = vault.encrypt(T1, "bob", b"bob@example.com", **WHERE)
    other_tenant_alice = vault.encrypt(T2, "alice", b"a different alice", **WHERE)
    snapshot = _backup(engine, database_url, tmp_path / "backup.db")

    vault.shred(T1, "alice")
    _restore(engine, database_url, tmp_path / "backup.db", snapshot)

    # The restore brought the key back: a fresh process could read alice again...
    assert make_vault(engine, keyring).decrypt(T1, "alice", alice, **WHERE) == b"alice@example.com"
    # ...until the ledger, which lives outside the database, is replayed.
    restarted = make_vault(engine, keyring)
    report = restarted.replay_erasures()
    assert (report.entries, report.subjects_found, report.reshredded, report.keys_deleted) == (1, 1, 1, 1)
    with pytest.raises(SubjectKeyDestroyed):
        restarted.decrypt(T1, "alice", alice, **WHERE)
    assert restarted.decrypt(T1, "bob", bob, **WHERE) == b"bob@example.com"
    assert restarted.decrypt(T2, "alice", other_tenant_alice, **WHERE) == b"a different alice"
    assert restarted.replay_erasures().reshredded == 0  # idempotent


def test_replay_spares_keys_created_after_the_erasure(engine: Engine, keyring: Path) -> None:
    """A subject who comes back after erasure (a new relationship) is not erased again by a replay."""
    vault = make_vault(engine, keyring)
    vault.encrypt(T1, "alice", b"before", **WHERE)
    vault.shred(T1, "alice")
    later = make_vault(engine, keyring, clock=lambda: utcnow() + timedelta(seconds=5))
    again = later.encrypt(T1, "alice", b"after", **WHERE)
    report = later.replay_erasures()
    assert (report.subjects_found, report.reshredded) == (1, 0)
    assert later.decrypt(T1, "alice", again, **WHERE) == b"after"


def test_replay_runs_hooks_for_subjects_found(engine: Engine, keyring: Path) -> None:
    calls: list[str] = []

    def hook(conn: Connection, subject: ErasedSubject) -> int:
        calls.append(subject.subject_id)
        return 1

    vault = make_vault(engine, keyring, hooks=[hook])
    vault.encrypt(T1, "alice", b"x", **WHERE)
    vault.shred(T1, "alice")
    assert calls == ["alice"]
    vault.encrypt(T1, "alice-2", b"x", **WHERE)
    with write_transaction(engine) as conn:  # a restore brings alice's key back
        conn.execute(
            insert(subject_keys).values(
                tenant_id=T1,
                subject_id="alice",
                key_version=1,
                kek_version=1,
                wrapped_dek=b"w" * 40,
                created_at=utcnow() - timedelta(days=1),
            )
        )
    report = vault.replay_erasures()
    assert (report.reshredded, report.keys_deleted, report.derived_rows_deleted) == (1, 1, 1)
    assert calls == ["alice", "alice"]


def test_an_empty_ledger_replays_nothing(vault: Vault) -> None:
    vault.encrypt(T1, "alice", b"x", **WHERE)
    assert vault.replay_erasures().entries == 0


# --- schema -------------------------------------------------------------------------------------------


def test_migration_matches_the_table(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), all_metadata())
    mine = [d for d in diffs if "subject_keys" in repr(d)]
    assert mine == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(subject_keys)).scalar_one() == 0


def test_subject_column_is_marked() -> None:
    assert [c.name for c in subject_keys.columns if c.info["subject_key"]] == ["subject_id"]


def test_a_server_starting_on_a_restored_backup_replays_the_ledger(
    engine: Engine, database_url: str, keyring: Path, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, keyring_path=keyring)
    vault = build_vault(settings, engine)
    alice = vault.encrypt(T1, "alice", b"alice@example.com", **WHERE)
    bob = vault.encrypt(T1, "bob", b"bob@example.com", **WHERE)
    snapshot = _backup(engine, database_url, tmp_path / "backup.db")
    vault.shred(T1, "alice")
    _restore(engine, database_url, tmp_path / "backup.db", snapshot)

    platform = build_platform(settings)
    try:
        started = register(platform)
        with pytest.raises(SubjectKeyDestroyed):
            started.decrypt(T1, "alice", alice, **WHERE)
        assert started.decrypt(T1, "bob", bob, **WHERE) == b"bob@example.com"
    finally:
        platform.close()
