"""PostgreSQL row-level security: the application role sees one tenant, whatever the query says."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import ProgrammingError

from tests.support.services import rls_databases
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.db.registry import all_metadata
from tradeoff.platform.db.rls import scope_to_tenant, unprotected_tables
from tradeoff.platform.db.tables import devices, events, tenants
from tradeoff.platform.eventlog import read_events
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 29, tzinfo=UTC)


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """(owner URL, application-role URL) of a fresh database migrated with row-level security."""
    with rls_databases() as urls:
        yield urls


@pytest.fixture
def seeded(databases: tuple[str, str]) -> Iterator[tuple[Engine, Engine, dict[str, str]]]:
    owner, app = make_engine(databases[0]), make_engine(databases[1])
    ids: dict[str, str] = {}
    with owner.begin() as conn:
        for slug in ("acme", "zeta"):
            tenant = tenancy.create_tenant(conn, slug=slug, name=slug)
            ids[slug] = tenant.id
            ids[f"{slug}:device"] = tenancy.create_device(
                conn, tenant_id=tenant.id, external_id="gw-1", kind="gateway"
            ).id
            conn.execute(
                insert(events).values(
                    tenant_id=tenant.id,
                    event_id="e1",
                    type="device.heartbeat",
                    schema_version=1,
                    source="gw-1",
                    occurred_at=NOW,
                    received_at=NOW,
                    transport="http",
                    payload={"tenant": slug},
                )
            )
    yield owner, app, ids
    owner.dispose()
    app.dispose()


def test_every_tenant_table_is_forced(databases: tuple[str, str]) -> None:
    engine = make_engine(databases[0])
    with engine.connect() as conn:
        assert unprotected_tables(conn, all_metadata()) == []
        role = databases[1].split("//")[1].split("@")[0]
        attrs = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}).one()
    assert tuple(attrs) == (False, False)
    engine.dispose()


def test_unscoped_app_role_sees_nothing(seeded: tuple[Engine, Engine, dict[str, str]]) -> None:
    _, app, _ = seeded
    with app.connect() as conn:
        for table in (events, devices, tenants):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0


def test_a_forgotten_tenant_filter_still_sees_one_tenant(seeded: tuple[Engine, Engine, dict[str, str]]) -> None:
    _, app, ids = seeded
    with app.begin() as conn:
        scope_to_tenant(conn, ids["acme"])
        everything = read_events(conn, after_seq=0, limit=100)  # no tenant filter: the bug RLS guards against
        assert [e.payload for e in everything] == [{"tenant": "acme"}]
        assert [t.slug for t in tenancy.list_tenants(conn)] == ["acme"]
        moved = conn.execute(update(devices).where(devices.c.id == ids["zeta:device"]).values(name="pwned"))
        assert moved.rowcount == 0
    with app.begin() as conn:  # set_config(..., true) ends with the transaction: no leak through the pool
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0


def test_writing_into_another_tenant_is_refused(seeded: tuple[Engine, Engine, dict[str, str]]) -> None:
    _, app, ids = seeded
    with pytest.raises(ProgrammingError, match="row-level security"), app.begin() as conn:
        scope_to_tenant(conn, ids["acme"])
        tenancy.create_device(conn, tenant_id=ids["zeta"], external_id="sneaky", kind="gateway")


def test_granting_a_bypassing_role_is_refused(databases: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="superuser or BYPASSRLS"):
        upgrade(databases[0], app_role="postgres")


def test_api_runs_on_the_app_role(
    databases: tuple[str, str], seeded: tuple[Engine, Engine, dict[str, str]], tmp_path: Path
) -> None:
    owner, _, ids = seeded
    with owner.begin() as conn:
        key = create_api_key(conn, tenant_id=ids["acme"], role=Role.ADMIN, name="t").secret
    settings = Settings(database_url=databases[0], app_database_url=databases[1], var_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {key}"}
        listed = client.get("/v1/events", headers=headers).json()["events"]
        assert [e["payload"] for e in listed] == [{"tenant": "acme"}]
        assert client.get(f"/v1/devices/{ids['zeta:device']}", headers=headers).status_code == 404
        created = client.post("/v1/devices", json={"external_id": "cam-1", "kind": "camera"}, headers=headers)
        assert created.status_code == 201
