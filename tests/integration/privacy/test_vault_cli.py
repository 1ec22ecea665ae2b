"""``tradeoff privacy rotate-keys`` and ``replay-erasures`` (the vault's Typer sub-app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tradeoff.platform import tenancy
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.settings import Settings
from tradeoff.privacy.vault import SubjectKeyDestroyed
from tradeoff.privacy.vault.cli import app
from tradeoff.privacy.vault.config import VaultSettings, build_vault, ledger_path

WHERE = {"table": "profiles", "column": "email", "row_id": "r1"}


@pytest.fixture
def env(database_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TRADEOFF_DATABASE_URL", database_url)
    monkeypatch.setenv("TRADEOFF_KEYRING_PATH", str(tmp_path / "keys" / "keyring.json"))
    monkeypatch.delenv("TRADEOFF_KEY_PROVIDER", raising=False)
    monkeypatch.delenv("TRADEOFF_ERASURE_LEDGER_PATH", raising=False)
    return Settings()


def test_rotate_keys_json(env: Settings, engine: Engine) -> None:
    with write_transaction(engine) as conn:
        tenant = tenancy.create_tenant(conn, slug="corner-shop", name="Corner Shop")
    vault = build_vault(env, engine)
    ciphertexts = {f"s{i}": vault.encrypt(tenant.id, f"s{i}", b"data", **WHERE) for i in range(5)}

    result = CliRunner().invoke(app, ["rotate-keys", "--tenant", "corner-shop", "--json", "--batch-size", "2"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == {
        "tenant_id": tenant.id,
        "kek_version": 2,
        "total": 5,
        "rewrapped": 5,
        "skipped": 0,
        "failed": 0,
        "remaining": 0,
        "complete": True,
    }
    fresh = build_vault(env, engine)
    assert all(fresh.decrypt(tenant.id, s, c, **WHERE) == b"data" for s, c in ciphertexts.items())

    resumed = CliRunner().invoke(app, ["rotate-keys", "--tenant", tenant.id, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "re-wrapped 0 of 0" in resumed.stdout


def test_rotate_keys_unknown_tenant(env: Settings) -> None:
    result = CliRunner().invoke(app, ["rotate-keys", "--tenant", "nobody"])
    assert result.exit_code == 1
    assert "no tenant with slug or id 'nobody'" in result.output


def test_replay_erasures_json(env: Settings, engine: Engine) -> None:
    vault = build_vault(env, engine)
    ciphertext = vault.encrypt("t1", "alice", b"x", **WHERE)
    vault.shred("t1", "alice")
    assert ledger_path(env, VaultSettings()) == env.keyring_path.parent / "erasures.log"
    assert ledger_path(env, VaultSettings()).exists()

    result = CliRunner().invoke(app, ["replay-erasures", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "ledger_entries": 1,
        "subjects_found": 0,
        "reshredded": 0,
        "keys_deleted": 0,
        "derived_rows_deleted": 0,
    }
    with pytest.raises(SubjectKeyDestroyed):
        build_vault(env, engine).decrypt("t1", "alice", ciphertext, **WHERE)


def test_replay_refuses_an_unsafe_ledger(env: Settings, engine: Engine) -> None:
    vault = build_vault(env, engine)
    vault.encrypt("t1", "alice", b"x", **WHERE)
    vault.shred("t1", "alice")
    ledger_path(env).chmod(0o644)
    result = CliRunner().invoke(app, ["replay-erasures"])
    assert result.exit_code == 1
    assert "chmod 600" in result.output
