"""Data-subject requests over HTTP on SQLite and PostgreSQL: the shopper's own export and erasure
(``/v1/me/data``, ``DELETE /v1/me``) and the staff endpoints (``/v1/privacy/...``)."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import select

from tests.integration.privacy.dsr_world import World, count, dead_letters_naming, world
from tradeoff.platform.db.tables import events
from tradeoff.privacy.consent.store import consent_records
from tradeoff.privacy.dsr import FORMAT, default_registry
from tradeoff.privacy.subjects.store import subjects
from tradeoff.privacy.vault import SubjectKeyDestroyed
from tradeoff.privacy.vault.store import subject_keys

# Tables of capabilities (offers, presence) this shopper has no rows in: exported as zero counts.
EMPTY_CAPABILITY_TABLES = dict.fromkeys(
    ["offer_coupons", "offer_decisions", "offer_outbox", "offer_preferences", "offer_receipts", "presence_visits"], 0
)

__all__ = ["world"]  # the fixture


def _export(w: World, name: str) -> dict[str, object]:
    response = w.client.get("/v1/me/data", headers=w.shoppers[name].headers)
    assert response.status_code == 200, response.text
    doc: dict[str, object] = response.json()
    return doc


def test_export_holds_every_registry_table_and_nobody_else(world: World) -> None:
    alice = world.shoppers["alice"]
    doc = _export(world, "alice")

    assert doc["format"] == FORMAT and doc["subject_id"] == alice.subject_id
    assert doc["tenant_id"] == world.tenants["acme"] and isinstance(doc["exported_at"], str)
    tables = doc["tables"]
    assert isinstance(tables, dict) and sorted(tables) == default_registry().names
    # subjects: the row without the token's prefix and verifier
    (me,) = tables["subjects"]
    assert me["subject_id"] == alice.subject_id and me["closed_at"] is None
    assert "token_hash" not in me and "token_prefix" not in me
    # consent: every record (tier 2 at registration, which withdraws purchase linking; then purchase linking)
    purposes = [(r["purpose"], r["granted"]) for r in tables["consent_records"]]
    assert purposes == [
        ("analytics", True),
        ("personalization", True),
        ("purchase_linking", False),
        ("purchase_linking", True),
    ]
    assert {r["subject_id"] for r in tables["consent_records"]} == {alice.subject_id}
    # her data key's metadata, never the wrapped key
    assert tables["subject_keys"] and all("wrapped_dek" not in r for r in tables["subject_keys"])
    # events: exactly the ones she sent, under her stable pseudonym
    exported = doc["events"]
    assert isinstance(exported, list)
    assert sorted(e["event_id"] for e in exported) == sorted(alice.accepted)
    assert {e["payload"]["subject"] for e in exported} == world.pseudonyms(alice)
    assert all(e["occurred_at"].startswith("2026-11-2") for e in exported)
    # the audit entries about her: her consent changes (no subject id in them)
    assert [a["action"] for a in doc["audit"]] == ["consent.changed", "consent.changed"]  # type: ignore[union-attr]

    text = orjson.dumps(doc).decode()
    for other in ("bob", "carol", "zed"):
        shopper = world.shoppers[other]
        assert shopper.subject_id not in text
        assert not any(p in text for p in world.pseudonyms(shopper))


def test_export_finds_daily_pseudonyms_across_days_and_offsets(world: World) -> None:
    carol = world.shoppers["carol"]
    doc = _export(world, "carol")
    exported = doc["events"]
    assert isinstance(exported, list) and len(exported) == 3
    assert all(e["payload"]["subject"].startswith("pd_") for e in exported)
    assert {e["payload"]["subject"] for e in exported} == world.pseudonyms(carol)
    assert len(world.pseudonyms(carol)) == 3  # one per local day


def test_exports_are_audited(world: World) -> None:
    _export(world, "alice")
    log = world.client.get("/v1/privacy/dsr-log", headers=world.key("acme:admin")).json()
    (entry,) = log["entries"]
    assert entry["action"] == "dsr.export" and entry["actor"] == "subject"
    assert entry["details"] == {
        "requested_by": "subject",
        "tables": {"consent_records": 4, "subject_keys": 1, "subjects": 1} | EMPTY_CAPABILITY_TABLES,
        "events": 4,
    }
    assert "subject_ref" not in entry and log["next_before_seq"] is None


def test_the_shopper_erases_themselves(world: World) -> None:
    alice = world.shoppers["alice"]
    bob_before = _export(world, "bob")
    acme = world.tenants["acme"]

    response = world.client.delete("/v1/me", headers=alice.headers)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["erased"] is True and report["erased_at"]
    assert report["events_deleted"] == 4
    # 4 consent records + 1 data key + 1 dead letter naming her
    assert report["rows_deleted"] == 6
    assert {table: n for table, n in report["tables"].items() if n} == {
        "consent_records": 4,
        "subject_keys": 1,
        "dead_letters": 1,
    }

    # the token now answers 410 "erased" everywhere
    for method, path in [("GET", "/v1/me/data"), ("GET", "/v1/me"), ("DELETE", "/v1/me"), ("GET", "/v1/me/consent")]:
        gone = world.client.request(method, path, headers=alice.headers)
        assert gone.status_code == 410, (path, gone.text)
        assert gone.json()["error"]["code"] == "erased"
        assert gone.json()["error"]["details"]["erased_at"] == report["erased_at"]
    assert world.client.post("/v1/me/events", headers=alice.headers, json={"events": []}).status_code == 410

    with world.engine.connect() as conn:
        assert count(conn, consent_records, tenant_id=acme, subject_id=alice.subject_id) == 0
        assert count(conn, subject_keys, tenant_id=acme, subject_id=alice.subject_id) == 0
        tombstone = conn.execute(select(subjects).where(subjects.c.subject_id == alice.subject_id)).one()
        assert tombstone.closed_at is not None and tombstone.created_at == tombstone.closed_at
        stored = {row.payload["subject"] for row in conn.execute(select(events.c.payload))}
    assert not stored & world.pseudonyms_for(alice)
    assert world.events_of(alice) == 0 and dead_letters_naming(world.engine, alice.subject_id) == 0
    profile_id, email = world.ciphertexts["alice"]  # a copy, as in a backup
    with pytest.raises(SubjectKeyDestroyed):
        world.privacy.vault.decrypt(
            acme, alice.subject_id, email, table="dsr_test_profiles", column="email", row_id=profile_id
        )

    # a device naming her afterwards stores nothing (the gate drops events about a closed subject)
    late = {"event_id": "late-1", "type": "offers.viewed", "occurred_at": "2026-11-30T10:00:00Z", "source": "gw-1"}
    late["payload"] = {"subject": alice.subject_id}
    result = world.client.post("/v1/events", headers=world.key("acme:admin"), json={"events": [late]}).json()
    assert result["results"][0]["status"] == "dropped"

    # everyone else is intact
    bob_after = _export(world, "bob")
    assert bob_after["tables"] == bob_before["tables"] and bob_after["events"] == bob_before["events"]
    assert len(_export(world, "zed")["events"]) == 4  # type: ignore[arg-type]
    assert len(_export(world, "carol")["events"]) == 3  # type: ignore[arg-type]

    log = world.client.get("/v1/privacy/dsr-log", headers=world.key("acme:admin")).json()["entries"]
    (erasure,) = [e for e in log if e["action"] == "dsr.erase"]
    assert (erasure["actor"], erasure["details"]) == ("subject", {"requested_by": "subject"})


def test_staff_export_and_erasure(world: World) -> None:
    bob, zed = world.shoppers["bob"], world.shoppers["zed"]
    path = f"/v1/privacy/subjects/{bob.subject_id}"
    assert world.client.get(f"{path}/export").status_code == 401
    for role in ("staff", "device", "pos"):
        assert world.client.get(f"{path}/export", headers=world.key(f"acme:{role}")).status_code == 403
        assert world.client.delete(path, headers=world.key(f"acme:{role}")).status_code == 403
    # another tenant's subject does not exist here
    other = world.client.get(f"/v1/privacy/subjects/{zed.subject_id}/export", headers=world.key("acme:admin"))
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    elsewhere = world.client.delete(f"/v1/privacy/subjects/{zed.subject_id}", headers=world.key("acme:admin"))
    assert elsewhere.status_code == 404

    exported = world.client.get(f"{path}/export", headers=world.key("acme:admin"))
    assert exported.status_code == 200 and exported.json() == {
        **_export(world, "bob"),
        "exported_at": exported.json()["exported_at"],
        "audit": exported.json()["audit"],
    }

    erased = world.client.delete(path, headers=world.key("acme:admin"))
    assert erased.status_code == 200 and erased.json()["events_deleted"] == 4
    again = world.client.delete(path, headers=world.key("acme:admin"))
    assert again.status_code == 410 and again.json()["error"]["code"] == "erased"
    assert world.client.get(f"{path}/export", headers=world.key("acme:admin")).status_code == 410
    assert world.client.get("/v1/me/data", headers=bob.headers).status_code == 410

    log = world.client.get("/v1/privacy/dsr-log", headers=world.key("acme:admin"), params={"limit": 2}).json()
    assert [(e["action"], e["details"]["requested_by"]) for e in log["entries"]] == [
        ("dsr.erase", "staff"),
        ("dsr.export", "subject"),
    ]
    assert all(e["actor"].startswith("key:") for e in log["entries"][:1])
    rest = world.client.get(
        "/v1/privacy/dsr-log", headers=world.key("acme:admin"), params={"before_seq": log["next_before_seq"]}
    ).json()
    assert [(e["action"], e["details"]["requested_by"]) for e in rest["entries"]] == [("dsr.export", "staff")]
    assert world.client.get("/v1/privacy/dsr-log", headers=world.key("acme:staff")).status_code == 403
    zeta_log = world.client.get("/v1/privacy/dsr-log", headers=world.key("zeta:admin")).json()
    assert zeta_log["entries"] == []


def test_unknown_subject_is_404(world: World) -> None:
    response = world.client.get("/v1/privacy/subjects/nobody/export", headers=world.key("acme:admin"))
    assert response.status_code == 404
    assert world.client.delete("/v1/privacy/subjects/nobody", headers=world.key("acme:admin")).status_code == 404
    with world.engine.connect() as conn:
        assert conn.execute(select(subjects.c.closed_at).where(subjects.c.closed_at.is_not(None))).first() is None
