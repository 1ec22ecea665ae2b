"""``/v1/me`` through the HTTP app: registration, consent (tiers, purposes, GPC), app events and the
guarantee that nothing is stored after a withdrawal. Wired exactly as ``consent.capability.register``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.services import rls_databases
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import build_platform
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings
from tradeoff.privacy import me_api
from tradeoff.privacy.consent.capability import register
from tradeoff.privacy.gate import PrivacyGate


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]

    def key(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def new_shopper(self, tenant: str = "acme", **body: Any) -> tuple[str, dict[str, str]]:
        response = self.client.post("/v1/me/register", headers=self.key(f"{tenant}:device"), json=body or None)
        assert response.status_code == 201, response.text
        doc = response.json()
        return doc["subject_id"], {"Authorization": f"Bearer {doc['app_token']}"}

    def consent(self, app: dict[str, str], *, gpc_header: bool = False, **body: Any) -> dict[str, Any]:
        headers = {**app, "Sec-GPC": "1"} if gpc_header else app
        body = {"policy_version": "2026-11", "source": "app", **body}
        response = self.client.put("/v1/me/consent", headers=headers, json=body)
        assert response.status_code == 200, response.text
        doc: dict[str, Any] = response.json()
        return doc

    def send(self, app: dict[str, str], n: int, *, type_: str = "presence.sighting", start: int = 0) -> list[str]:
        events = [
            {
                "event_id": f"ev-{start + i}",
                "type": type_,
                "occurred_at": "2026-11-29T10:00:00Z",
                "payload": {"zone": "entrance", "install_id": "INSTALL-42"},
            }
            for i in range(n)
        ]
        response = self.client.post("/v1/me/events", headers=app, json={"events": events})
        assert response.status_code == 200, response.text
        return [item["status"] for item in response.json()["results"]]

    def stored(self, tenant: str = "acme") -> list[dict[str, Any]]:
        response = self.client.get("/v1/events", headers=self.key(f"{tenant}:admin"), params={"limit": 1000})
        events: list[dict[str, Any]] = response.json()["events"]
        return events


@pytest.fixture
def api(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Api]:
    keys: dict[str, str] = {}
    with engine.begin() as conn:
        for slug in ("acme", "zeta"):
            tenant = tenancy.create_tenant(conn, slug=slug, name=slug.title()).id
            for role in Role:
                keys[f"{slug}:{role.value}"] = create_api_key(conn, tenant_id=tenant, role=role, name=role.value).secret
    settings = Settings(database_url=database_url, var_dir=tmp_path, keyring_path=tmp_path / "keys" / "keyring.json")
    platform = build_platform(settings)
    register(platform)  # a no-op once the container's CAPABILITIES does it
    try:
        with TestClient(create_app(settings, platform=platform)) as client:
            yield Api(client, keys)
    finally:
        platform.close()


def test_register_is_idempotent(api: Api) -> None:
    platform = api.client.app.state.platform  # type: ignore[attr-defined]
    gates = [gate for gate in platform.pipeline.gates if isinstance(gate, PrivacyGate)]
    assert len(gates) == 1 and register(platform) is gates[0]
    assert sum(router is me_api.router for router in platform.routers) == 1


def test_registration_needs_the_app_backend_key(api: Api) -> None:
    assert api.client.post("/v1/me/register").status_code == 401
    assert api.client.post("/v1/me/register", headers=api.key("acme:staff")).status_code == 403
    subject_id, app = api.new_shopper()
    me = api.client.get("/v1/me", headers=app).json()
    assert me["subject_id"] == subject_id and me["tier"] == 0 and me["purposes"] == []
    wrong = api.client.get("/v1/me", headers=api.key("acme:admin"))
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthenticated"
    assert api.client.get("/v1/me", headers={"Authorization": "Bearer ta_000000000000_nope"}).status_code == 401


def test_register_with_first_consent(api: Api) -> None:
    _, app = api.new_shopper(consent={"tier": 2, "policy_version": "2026-11", "source": "in_store"})
    state = api.client.get("/v1/me/consent", headers=app).json()
    assert state["tier"] == 2
    assert state["purposes"]["personalization"]["record"]["source"] == "in_store"
    assert state["purposes"]["analytics"]["record"]["renew_by"] is not None


def test_zero_events_stored_after_withdrawal(api: Api) -> None:
    _, app = api.new_shopper()
    assert api.send(app, 1) == ["dropped"]
    assert api.consent(app, tier=1)["tier"] == 1
    assert api.send(app, 3, start=1) == ["accepted"] * 3
    stored = api.stored()
    assert len(stored) == 3
    assert all(e["payload"]["subject"].startswith("pd_") and e["source"] == "app" for e in stored)
    assert all(e["payload"]["install_id"].startswith("tokd_device_") for e in stored)
    assert "INSTALL-42" not in str(stored)

    assert api.consent(app, tier=0)["tier"] == 0
    assert api.send(app, 5, start=10) == ["dropped"] * 5
    assert len(api.stored()) == 3  # 0 stored after withdrawal


def test_purposes_map_and_tiers(api: Api) -> None:
    _, app = api.new_shopper()
    doc = api.consent(app, purposes={"analytics": True, "personalization": True})
    assert doc["tier"] == 2 and [r["purpose"] for r in doc["recorded"]] == ["analytics", "personalization"]
    assert api.send(app, 1, type_="offers.viewed") == ["accepted"]
    assert api.stored()[0]["payload"]["subject"].startswith("ps_")
    assert api.send(app, 1, type_="pos.basket.linked", start=1) == ["dropped"]
    doc = api.consent(app, purposes={"personalization": False})
    assert doc["tier"] == 1 and doc["purposes"]["analytics"]["granted"]
    history = api.client.get("/v1/me/consent/history", headers=app).json()["records"]
    assert [(r["purpose"], r["granted"]) for r in history] == [
        ("analytics", True),
        ("personalization", True),
        ("personalization", False),
    ]


def test_gpc_header_blocks_purchase_linking(api: Api) -> None:
    _, app = api.new_shopper()
    doc = api.consent(app, tier=3, gpc_header=True)
    assert doc["tier"] == 2 and doc["gpc_conflict"] is True
    linking = doc["purposes"]["purchase_linking"]
    assert linking["granted"] is False and linking["record"]["basis"] == "gpc_conflict"
    assert linking["record"]["requested"] is True and linking["record"]["gpc"] is True

    doc = api.consent(app, tier=3)  # later, without the signal, the shopper opts in explicitly
    assert doc["tier"] == 3 and doc["gpc_conflict"] is False
    assert api.send(app, 1, type_="pos.basket.linked") == ["accepted"]

    # A GPC signal on any /v1/me call withdraws it again, before the request does anything else.
    state = api.client.get("/v1/me/consent", headers={**app, "Sec-GPC": "1"}).json()
    assert state["tier"] == 2 and state["purposes"]["purchase_linking"]["record"]["basis"] == "gpc"
    assert api.send(app, 1, type_="pos.basket.linked", start=1) == ["dropped"]
    # The app may also report the setting itself.
    doc = api.consent(app, tier=3, gpc=True)
    assert doc["tier"] == 2 and doc["gpc_conflict"] is True


def test_an_app_speaks_only_for_itself(api: Api) -> None:
    other, _ = api.new_shopper()
    _, app = api.new_shopper()
    api.consent(app, tier=1)
    body = {
        "events": [
            {
                "event_id": "x",
                "type": "presence.sighting",
                "occurred_at": "2026-11-29T10:00:00Z",
                "payload": {"subject": other},
            }
        ]
    }
    response = api.client.post("/v1/me/events", headers=app, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "events[0].payload.subject"
    bad_source = {"events": [{**body["events"][0], "payload": {}, "source": "gw-9"}]}
    result = api.client.post("/v1/me/events", headers=app, json=bad_source).json()["results"][0]
    assert result["status"] == "rejected" and result["error"]["field"] == "source"


def test_consent_input_errors(api: Api) -> None:
    _, app = api.new_shopper()
    for body in (
        {"tier": 2, "purposes": {"analytics": True}, "policy_version": "v", "source": "app"},
        {"policy_version": "v", "source": "app"},
        {"tier": 5, "policy_version": "v", "source": "app"},
        {"purposes": {"selling": True}, "policy_version": "v", "source": "app"},
        {"tier": 1, "source": "app"},
        {"tier": 1, "policy_version": "v", "source": "carrier-pigeon"},
    ):
        response = api.client.put("/v1/me/consent", headers=app, json=body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "invalid_input"


def test_app_token_rotation(api: Api) -> None:
    _, app = api.new_shopper()
    token = api.client.post("/v1/me/token", headers=app).json()["app_token"]
    assert api.client.get("/v1/me", headers=app).status_code == 401
    assert api.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_tenants_are_separate(api: Api) -> None:
    _, acme = api.new_shopper("acme")
    _, zeta = api.new_shopper("zeta")
    api.consent(acme, tier=2)
    api.consent(zeta, tier=2)
    api.send(acme, 1)
    api.send(zeta, 1)
    [in_acme], [in_zeta] = api.stored("acme"), api.stored("zeta")
    assert in_acme["payload"]["install_id"] != in_zeta["payload"]["install_id"]  # same device, unrelated tokens


@pytest.mark.postgres
def test_me_api_runs_on_the_row_level_security_role(tmp_path: Path) -> None:
    """Handlers write through the tenant-bound application role; the gate reads consent as the owner."""
    with rls_databases() as (url, app_url):
        owner = make_engine(url)
        with owner.begin() as conn:
            tenant = tenancy.create_tenant(conn, slug="acme", name="Acme").id
            device_key = create_api_key(conn, tenant_id=tenant, role=Role.DEVICE, name="app backend").secret
            admin_key = create_api_key(conn, tenant_id=tenant, role=Role.ADMIN, name="admin").secret
        owner.dispose()
        settings = Settings(
            database_url=url,
            app_database_url=app_url,
            var_dir=tmp_path,
            keyring_path=tmp_path / "keyring.json",
        )
        platform = build_platform(settings)
        register(platform)
        try:
            with TestClient(create_app(settings, platform=platform)) as client:
                api = Api(client, {"acme:device": device_key, "acme:admin": admin_key})
                _, app = api.new_shopper()
                assert api.consent(app, tier=1)["tier"] == 1
                assert api.send(app, 2) == ["accepted"] * 2
                api.consent(app, tier=0)
                assert api.send(app, 2, start=2) == ["dropped"] * 2
                assert len(api.stored()) == 2
        finally:
            platform.close()
