"""End-to-end fixtures: a migrated database with a tenant and an admin key, driven through the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import cli, cli_json
from tests.support.services import postgres_database


@dataclass
class Deployment:
    env: dict[str, str]
    admin_key: str
    tmp: Path


def deploy(database_url: str, tmp: Path, **extra_env: str) -> Deployment:
    env = {"TRADEOFF_DATABASE_URL": database_url, "TRADEOFF_VAR_DIR": str(tmp / "var"), **extra_env}
    cli(env, "migrate")
    cli(env, "tenants", "create", "acme", "--name", "Acme Foods")
    key = cli_json(env, "keys", "create", "--tenant", "acme", "--role", "admin", "--name", "e2e")["secret"]
    return Deployment(env=env, admin_key=key, tmp=tmp)


@pytest.fixture
def sqlite_deployment(tmp_path: Path) -> Deployment:
    return deploy(f"sqlite:///{tmp_path / 'tradeoff.db'}", tmp_path)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url
