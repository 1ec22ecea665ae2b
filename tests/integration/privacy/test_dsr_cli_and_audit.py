"""``tradeoff privacy export|erase`` and the audit chain: consent changes, exports, erasures, KEK rotation
and staff reads of personal data are recorded with the change, carry no subject id, and verify."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from tests.integration.privacy.dsr_world import World, world
from tradeoff.cli.privacy import app
from tradeoff.privacy.audit import Action, entries_for_subject, read_entries

__all__ = ["world"]  # the fixture


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TRADEOFF_DATABASE_URL", world.settings.database_url)
    monkeypatch.setenv("TRADEOFF_KEYRING_PATH", str(world.settings.keyring_path))
    monkeypatch.delenv("TRADEOFF_KEY_PROVIDER", raising=False)
    monkeypatch.delenv("TRADEOFF_ERASURE_LEDGER_PATH", raising=False)
    monkeypatch.delenv("TRADEOFF_APP_DATABASE_URL", raising=False)
    return CliRunner()


def _actions(world: World, tenant: str = "acme") -> list[tuple[str, str]]:
    with world.engine.connect() as conn:
        return [(e.action, e.actor) for e in read_entries(conn, tenant_id=world.tenants[tenant])]


def test_cli_export_to_a_private_file(world: World, cli: CliRunner, tmp_path: Path) -> None:
    alice = world.shoppers["alice"]
    out = tmp_path / "alice.json"
    result = cli.invoke(app, ["export", "--tenant", "acme", "--subject", alice.subject_id, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_bytes())
    assert doc["subject_id"] == alice.subject_id and len(doc["events"]) == 4
    assert _actions(world)[-2:] == [("dsr.export", "cli"), ("personal.read", "cli")]

    to_stdout = cli.invoke(app, ["export", "--tenant", world.tenants["acme"], "--subject", alice.subject_id])
    assert to_stdout.exit_code == 0 and json.loads(to_stdout.stdout)["tables"] == doc["tables"]


def test_cli_erase(world: World, cli: CliRunner) -> None:
    alice = world.shoppers["alice"]
    args = ["erase", "--tenant", "acme", "--subject", alice.subject_id]

    declined = cli.invoke(app, args, input="n\n")
    assert declined.exit_code == 1
    assert world.events_of(alice) == 4

    result = cli.invoke(app, [*args, "--yes", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["erased"] is True and report["events_deleted"] == 4 and world.events_of(alice) == 0
    assert _actions(world)[-1] == ("dsr.erase", "cli")

    again = cli.invoke(app, [*args, "--yes"])
    assert again.exit_code == 1 and "erased" in again.stderr
    exported = cli.invoke(app, ["export", "--tenant", "acme", "--subject", alice.subject_id])
    assert exported.exit_code == 1 and "erased" in exported.stderr
    unknown = cli.invoke(app, ["erase", "--tenant", "acme", "--subject", "nobody", "--yes"])
    assert unknown.exit_code == 1 and "no such subject" in unknown.stderr
    no_tenant = cli.invoke(app, ["export", "--tenant", "nope", "--subject", alice.subject_id])
    assert no_tenant.exit_code == 1


def test_kek_rotation_is_audited(world: World, cli: CliRunner) -> None:
    result = cli.invoke(app, ["rotate-keys", "--tenant", "acme", "--json"])
    assert result.exit_code == 0, result.output
    rotated = json.loads(result.stdout)
    with world.engine.connect() as conn:
        entries = read_entries(conn, tenant_id=world.tenants["acme"])
    start, end = entries[-2:]
    assert (start.action, start.actor, start.details) == (
        "key.rotate",
        "cli",
        {"kek_version": rotated["kek_version"], "new_version": True},
    )
    assert (end.action, end.details["rewrapped"], end.details["remaining"]) == ("key.rewrapped", rotated["total"], 0)
    assert start.subject_ref is None


def test_the_chain_records_every_privacy_action_and_verifies(world: World, cli: CliRunner) -> None:
    alice, bob = world.shoppers["alice"], world.shoppers["bob"]
    acme = world.tenants["acme"]
    # a GPC signal withdraws purchase linking: a consent change too
    assert world.client.get("/v1/me", headers={**alice.headers, "Sec-GPC": "1"}).status_code == 200
    assert world.client.get("/v1/me/data", headers=alice.headers).status_code == 200
    staff = world.client.get(f"/v1/privacy/subjects/{bob.subject_id}/export", headers=world.key("acme:admin"))
    assert staff.status_code == 200
    assert world.client.delete("/v1/me", headers=alice.headers).status_code == 200
    assert cli.invoke(app, ["rotate-keys", "--tenant", "acme"]).exit_code == 0

    actions = _actions(world)
    key_actor = next(actor for action, actor in actions if action == "personal.read")
    assert key_actor.startswith("key:")
    # registration with a first consent is recorded as the app backend's key; later changes as the subject
    consent = [actor for action, actor in actions if action == Action.CONSENT_CHANGED]
    assert consent[0].startswith("key:") and consent[0] != key_actor and "subject" in consent
    assert actions[-7:] == [
        ("consent.changed", "subject"),  # GPC
        ("dsr.export", "subject"),
        ("dsr.export", key_actor),
        ("personal.read", key_actor),
        ("dsr.erase", "subject"),
        ("key.rotate", "cli"),
        ("key.rewrapped", "cli"),
    ]
    with world.engine.connect() as conn:
        entries = read_entries(conn, tenant_id=acme)
        mine = entries_for_subject(conn, keys=world.privacy.audit.keys, tenant_id=acme, subject_id=alice.subject_id)
    gpc = [e for e in mine if e.action == Action.CONSENT_CHANGED][-1]
    assert gpc.details["records"][0]["basis"] == "gpc" and gpc.details["records"][0]["purpose"] == "purchase_linking"
    assert [e.action for e in mine] == ["consent.changed"] * 3 + ["dsr.export", "dsr.erase"]
    everything = orjson.dumps([(e.actor, e.details) for e in entries]).decode()
    for shopper in world.shoppers.values():
        assert shopper.subject_id not in everything

    report = world.privacy.audit.verify(world.engine)
    assert report.ok, report.to_dict()
    assert {t.tenant_id for t in report.tenants} == set(world.tenants.values())
