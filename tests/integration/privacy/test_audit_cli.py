"""``tradeoff privacy verify-audit`` / ``audit-checkpoint``: exit codes and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from tradeoff.platform.db.engine import make_engine, write_transaction
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.settings import Settings
from tradeoff.privacy.audit import AuditTrail
from tradeoff.privacy.audit.cli import app
from tradeoff.privacy.audit.store import audit_log


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    upgrade(sqlite_url)
    return {"TRADEOFF_DATABASE_URL": sqlite_url, "TRADEOFF_KEYRING_PATH": str(tmp_path / "keys" / "keyring.json")}


def test_verify_and_checkpoint_commands(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    trail = AuditTrail.from_settings(Settings())
    engine = make_engine(env["TRADEOFF_DATABASE_URL"])
    try:
        for i in range(5):
            with write_transaction(engine) as conn:
                trail.record(conn, tenant_id="t1", actor="staff-1", action="personal.read", details={"i": i})
        runner = CliRunner()
        empty = runner.invoke(app, ["verify-audit", "--json"])
        assert empty.exit_code == 0, empty.output
        assert json.loads(empty.stdout)["tenants"][0]["unanchored_entries"] == 5

        made = runner.invoke(app, ["audit-checkpoint", "--json"])
        assert made.exit_code == 0, made.output
        assert [(c["tenant_id"], c["seq"]) for c in json.loads(made.stdout)] == [("t1", 5)]
        assert (Path(env["TRADEOFF_KEYRING_PATH"]).parent / "audit-checkpoints.jsonl").exists()

        ok = runner.invoke(app, ["verify-audit", "--tenant", "t1"])
        assert ok.exit_code == 0, ok.output
        assert "ok" in ok.stdout

        with engine.begin() as conn:
            conn.execute(delete(audit_log).where(audit_log.c.seq >= 4))
        broken = runner.invoke(app, ["verify-audit", "--json"])
        assert broken.exit_code == 1
        report = json.loads(broken.stdout)
        assert report["ok"] is False
        assert report["tenants"][0]["broken"]["kind"] == "truncated"
        assert report["tenants"][0]["broken"]["seq"] == 4
        human = runner.invoke(app, ["verify-audit"])
        assert human.exit_code == 1
        assert "first broken entry 4" in human.stderr
    finally:
        engine.dispose()


def test_verify_refuses_a_missing_keyring(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEOFF_DATABASE_URL", env["TRADEOFF_DATABASE_URL"])
    monkeypatch.setenv("TRADEOFF_KEYRING_PATH", env["TRADEOFF_KEYRING_PATH"])
    result = CliRunner().invoke(app, ["verify-audit"])
    assert result.exit_code == 2
    assert "keyring" in result.output
    assert not Path(env["TRADEOFF_KEYRING_PATH"]).exists()  # and none was created


def test_commands_mount_under_tradeoff_privacy(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from tradeoff.privacy.audit.cli import register

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    Path(env["TRADEOFF_KEYRING_PATH"]).parent.mkdir(parents=True)
    Path(env["TRADEOFF_KEYRING_PATH"]).write_text('{"tenants": {}}')
    Path(env["TRADEOFF_KEYRING_PATH"]).chmod(0o600)
    root = typer.Typer()
    privacy = typer.Typer()
    register(privacy)
    root.add_typer(privacy, name="privacy")
    result = CliRunner().invoke(root, ["privacy", "verify-audit", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"ok": True, "tenants": []}
