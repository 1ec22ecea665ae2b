"""Export and erasure through the service layer on SQLite and PostgreSQL, with capability tables the
registry finds by themselves (an encrypted profile keyed by subject id, visits keyed by pseudonym), the
erasure ledger replayed after a backup restore, and an erasure of thousands of events."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Table, insert, select, update

from tests.integration.privacy.dsr_world import (
    World,
    count,
    extended_registry,
    profiles,
    restore,
    snapshot,
    visits,
    world,
)
from tradeoff.platform.container import build_platform
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.privacy.audit.actors import CLI
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.consent.store import consent_records
from tradeoff.privacy.dsr import DsrErasureHook, RequestedBy, erase, erase_subject, export_for
from tradeoff.privacy.subjects import Pseudonymizer
from tradeoff.privacy.subjects.store import subjects
from tradeoff.privacy.vault import SubjectKeyDestroyed, Vault
from tradeoff.privacy.vault.store import subject_keys

__all__ = ["world"]  # the fixture

REGISTRY = extended_registry()
DATA_TABLES: list[Table] = [subjects, consent_records, subject_keys, events, dead_letters, profiles, visits]


def _export(w: World, name: str) -> dict[str, Any]:
    shopper = w.shoppers[name]
    return export_for(
        w.engine,
        tenant_id=w.tenants[shopper.tenant],
        subject_id=shopper.subject_id,
        vault=w.privacy.vault,
        audit=w.privacy.audit,
        actor=CLI,
        requested_by=RequestedBy.CLI,
        registry=REGISTRY,
    )


def _erase(w: World, name: str, vault: Vault | None = None) -> dict[str, Any]:
    shopper = w.shoppers[name]
    report = erase(
        w.engine,
        tenant_id=w.tenants[shopper.tenant],
        subject_id=shopper.subject_id,
        vault=vault or w.privacy.vault,
        audit=w.privacy.audit,
        actor=CLI,
        requested_by=RequestedBy.CLI,
        registry=REGISTRY,
    )
    return report.to_json()


def _decrypt_email(w: World, vault: Vault, name: str) -> str:
    """Decrypt the shopper's e-mail ciphertext as first stored (a copy survives in any backup)."""
    shopper = w.shoppers[name]
    profile_id, email = w.ciphertexts[name]
    return vault.decrypt_text(
        w.tenants[shopper.tenant], shopper.subject_id, email, table=profiles.name, column="email", row_id=profile_id
    )


def _held(w: World, name: str) -> dict[str, int]:
    """What the database holds about a shopper, table by table (events by pseudonym)."""
    shopper = w.shoppers[name]
    tenant_id, subject_id = w.tenants[shopper.tenant], shopper.subject_id
    pseudonyms = w.pseudonyms_for(shopper)
    with w.engine.connect() as conn:
        open_subject = conn.execute(
            select(subjects).where(subjects.c.subject_id == subject_id, subjects.c.closed_at.is_(None))
        ).all()
        in_visits = conn.execute(select(visits).where(visits.c.pseudonym.in_(pseudonyms))).all()
        return {
            "open_subject": len(open_subject),
            "consent_records": count(conn, consent_records, tenant_id=tenant_id, subject_id=subject_id),
            "subject_keys": count(conn, subject_keys, tenant_id=tenant_id, subject_id=subject_id),
            "profiles": count(conn, profiles, tenant_id=tenant_id, subject_id=subject_id),
            "visits": len(in_visits),
            "events": w.events_of(shopper),
        }


def test_export_decrypts_and_finds_pseudonymous_rows(world: World) -> None:
    doc = _export(world, "alice")
    (profile,) = doc["tables"]["dsr_test_profiles"]
    assert profile["email"] == "alice@example.com"  # vault ciphertext, decrypted
    assert profile["photo"] == {"base64": "/9j/"}  # decrypted bytes that are not text
    assert profile["blob"] == {"base64": "AAE="}  # plain bytes
    assert "api_secret" not in profile  # secret=True columns are never exported
    assert profile["created_at"] == "2026-11-20T00:00:00+00:00"
    assert {v["pseudonym"] for v in doc["tables"]["dsr_test_visits"]} == world.pseudonyms(world.shoppers["alice"])

    carol = _export(world, "carol")
    assert len(carol["tables"]["dsr_test_visits"]) == 3  # one per daily pseudonym

    text = orjson.dumps(doc).decode()
    assert "bob@example.com" not in text and "zed@example.com" not in text


def test_a_value_that_does_not_decrypt_is_marked(world: World) -> None:
    alice = world.shoppers["alice"]
    tampered = bytearray(world.ciphertexts["alice"][1])
    tampered[-1] ^= 1
    with write_transaction(world.engine) as conn:
        conn.execute(update(profiles).where(profiles.c.subject_id == alice.subject_id).values(email=bytes(tampered)))
    (profile,) = _export(world, "alice")["tables"]["dsr_test_profiles"]
    assert profile["email"] == {"undecryptable": "undecryptable"}


def test_erasure_reaches_every_registry_table(world: World) -> None:
    before = {name: _held(world, name) for name in ("bob", "carol", "zed")}
    assert _held(world, "alice") == {
        "open_subject": 1,
        "consent_records": 4,
        "subject_keys": 1,
        "profiles": 1,
        "visits": 1,
        "events": 4,
    }

    report = _erase(world, "alice")

    assert {table: n for table, n in report["tables"].items() if n} == {
        "consent_records": 4,
        "dsr_test_profiles": 1,
        "dsr_test_visits": 1,
        "subject_keys": 1,
        "dead_letters": 1,
    }
    assert (report["rows_deleted"], report["events_deleted"]) == (8, 4)
    assert _held(world, "alice") == dict.fromkeys(before["bob"], 0)
    assert {name: _held(world, name) for name in before} == before
    assert _decrypt_email(world, world.privacy.vault, "bob") == "bob@example.com"

    carol = _erase(world, "carol")  # daily pseudonyms over several days (one across an offset)
    assert (carol["events_deleted"], carol["tables"]["dsr_test_visits"]) == (3, 3)


def test_an_erasure_that_rolls_back_is_completed_by_the_replay(world: World) -> None:
    """The ledger is written ahead: a crash after it (here: a rollback) still erases on the next replay."""
    alice = world.shoppers["alice"]
    vault = Vault(world.engine, world.privacy.keys, ledger=world.privacy.vault.ledger, hooks=[DsrErasureHook(REGISTRY)])
    with pytest.raises(RuntimeError), write_transaction(world.engine) as conn:
        erase_subject(
            conn,
            tenant_id=world.tenants["acme"],
            subject_id=alice.subject_id,
            vault=vault,
            audit=world.privacy.audit,
            actor=CLI,
            requested_by="cli",
            registry=REGISTRY,
        )
        raise RuntimeError("crash before commit")
    assert _held(world, "alice")["events"] == 4  # rolled back
    report = vault.replay_erasures()
    assert (report.subjects_found, report.reshredded) == (1, 1)
    assert _held(world, "alice") == dict.fromkeys(_held(world, "alice"), 0)


def test_restoring_a_backup_then_replaying_erases_again(world: World) -> None:
    backup = snapshot(world.engine, DATA_TABLES)
    bob_before = _held(world, "bob")
    _erase(world, "alice")

    restore(world.engine, DATA_TABLES, backup)
    # the restore brought alice back, key included: a fresh vault could read her data again...
    fresh = Vault(world.engine, world.privacy.keys, ledger=world.privacy.vault.ledger, hooks=[DsrErasureHook(REGISTRY)])
    assert _decrypt_email(world, fresh, "alice") == "alice@example.com"
    assert _held(world, "alice")["events"] == 4

    # ...until the ledger, which lives outside the database, is replayed
    report = fresh.replay_erasures()

    assert (report.subjects_found, report.reshredded, report.keys_deleted) == (1, 1, 1)
    assert report.derived_rows_deleted == 4 + 1 + 1 + 4 + 1 + 1  # consent, profile, visit, events, dead letter, close
    assert _held(world, "alice") == dict.fromkeys(bob_before, 0)
    with pytest.raises(SubjectKeyDestroyed):
        _decrypt_email(world, fresh, "alice")
    gone = world.client.get("/v1/me/data", headers=world.shoppers["alice"].headers)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "erased"
    assert _held(world, "bob") == bob_before
    assert _decrypt_email(world, fresh, "bob") == "bob@example.com"
    assert fresh.replay_erasures().reshredded == 0  # idempotent


def test_a_server_starting_on_a_restored_backup_forgets_the_subject_again(world: World) -> None:
    """The DSR hook is registered before the privacy capability replays the ledger at start."""
    backup = snapshot(world.engine, DATA_TABLES)
    response = world.client.delete("/v1/me", headers=world.shoppers["alice"].headers)
    assert response.status_code == 200
    restore(world.engine, DATA_TABLES, backup)
    assert _held(world, "alice")["consent_records"] == 4

    restarted = build_platform(world.settings)
    try:
        held = _held(world, "alice")
        # the test-only tables are not in the default registry: kept, but...
        assert held == {**dict.fromkeys(held, 0), "profiles": 1, "visits": 1}
        with pytest.raises(SubjectKeyDestroyed):
            _decrypt_email(world, privacy_of(restarted).vault, "alice")  # ...unreadable
    finally:
        restarted.close()


def test_erasing_thousands_of_events(world: World) -> None:
    """5,000 events of one subject among 10,000 of the tenant (timing is printed, never asserted)."""
    alice, bob = world.shoppers["alice"], world.shoppers["bob"]
    acme = world.tenants["acme"]
    names = Pseudonymizer(world.privacy.keys)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    rows = []
    for i in range(5000):
        for who in (alice, bob):
            day = start + timedelta(minutes=13 * i)
            subject = names.stable(acme, who.subject_id) if i % 2 else names.daily(acme, who.subject_id, day.date())
            rows.append(
                {
                    "tenant_id": acme,
                    "event_id": f"bulk-{who.subject_id[:6]}-{i}",
                    "type": "presence.sighting",
                    "schema_version": 1,
                    "source": "app",
                    "occurred_at": day,
                    "received_at": day,
                    "transport": "http",
                    "payload": {"subject": subject, "zone": "bakery"},
                }
            )
    with write_transaction(world.engine) as conn:
        conn.execute(insert(events), rows)

    began = time.perf_counter()
    report = _erase(world, "alice")
    elapsed = time.perf_counter() - began

    print(f"\nerasure of 5,004 events among 10,011 ({world.engine.dialect.name}): {elapsed:.2f} s")
    assert report["events_deleted"] == 5004
    with world.engine.connect() as conn:
        assert count(conn, events, tenant_id=acme) == 5004 + 3  # bob's and carol's stay
