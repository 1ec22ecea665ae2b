"""The HTTP API in-process: auth, roles, tenant isolation, ingestion results, limits, operations."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings


@dataclass
class World:
    client: TestClient
    keys: dict[str, str]  # "<tenant>:<role>" → secret
    ids: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


@pytest.fixture
def world(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    keys: dict[str, str] = {}
    ids: dict[str, str] = {}
    with engine.begin() as conn:
        for slug in ("acme", "zeta"):
            tenant = tenancy.create_tenant(conn, slug=slug, name=slug.title())
            ids[slug] = tenant.id
            device = tenancy.create_device(conn, tenant_id=tenant.id, external_id="gw-1", kind="gateway")
            ids[f"{slug}:device"] = device.id
            for role in Role:
                bound = device.id if role is Role.DEVICE else None
                keys[f"{slug}:{role.value}"] = create_api_key(
                    conn, tenant_id=tenant.id, role=role, name=role.value, device_id=bound
                ).secret
    settings = Settings(database_url=database_url, var_dir=tmp_path, max_body_bytes=200_000, max_batch_events=50)
    with TestClient(create_app(settings)) as client:
        yield World(client, keys, ids)


def event(event_id: str, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": "device.heartbeat", "occurred_at": "2026-11-29T10:00:00Z", **extra}


def test_missing_or_bad_key_is_401(world: World) -> None:
    assert world.client.get("/v1/events").status_code == 401
    response = world.client.get("/v1/events", headers={"Authorization": "Bearer tk_nope_nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_roles_are_enforced(world: World) -> None:
    body = {"events": [event("r1", source="gw-1")]}
    assert world.client.post("/v1/events", json=body, headers=world.h("acme:staff")).status_code == 403
    assert world.client.get("/v1/events", headers=world.h("acme:device")).status_code == 403
    assert world.client.get("/v1/events", headers=world.h("acme:pos")).status_code == 403
    assert world.client.get("/v1/keys", headers=world.h("acme:staff")).status_code == 403
    assert world.client.get("/v1/keys", headers=world.h("acme:admin")).status_code == 200
    assert world.client.post("/v1/events", json=body, headers=world.h("acme:device")).status_code == 200


@pytest.mark.parametrize("path", ["/v1/devices/{id}", "/v1/sites/{id}"])
def test_another_tenants_object_is_403(world: World, engine: Engine, path: str) -> None:
    with engine.begin() as conn:
        site = tenancy.create_site(conn, tenant_id=world.ids["zeta"], name="Zeta store")
    object_id = world.ids["zeta:device"] if "devices" in path else site.id
    url = path.format(id=object_id)
    assert world.client.get(url, headers=world.h("zeta:staff")).status_code == 200
    assert world.client.get(url, headers=world.h("acme:staff")).status_code == 403
    assert world.client.get(url.replace(object_id, "missing"), headers=world.h("acme:staff")).status_code == 404


def test_events_are_tenant_scoped(world: World) -> None:
    for tenant in ("acme", "zeta"):
        body = {"events": [event("same-id", source="gw-1", payload={"tenant": tenant})]}
        result = world.client.post("/v1/events", json=body, headers=world.h(f"{tenant}:admin")).json()
        assert result["accepted"] == 1
    for tenant in ("acme", "zeta"):
        listed = world.client.get("/v1/events", headers=world.h(f"{tenant}:staff")).json()["events"]
        assert [e["payload"]["tenant"] for e in listed] == [tenant]
        one = world.client.get("/v1/events/same-id", headers=world.h(f"{tenant}:staff")).json()
        assert one["payload"] == {"tenant": tenant}
    keys = world.client.get("/v1/keys", headers=world.h("acme:admin")).json()["keys"]
    assert len(keys) == len(Role) and "secret_hash" not in keys[0]


def test_per_item_results_and_dead_letters(world: World) -> None:
    body = {"events": [event("ok-1", source="gw-1"), event("ok-1", source="gw-1"), {"event_id": "x"}]}
    result = world.client.post("/v1/events", json=body, headers=world.h("acme:admin")).json()
    assert (result["accepted"], result["duplicates"], result["rejected"]) == (1, 1, 1)
    assert result["results"][2]["error"] == {"code": "invalid_event", "field": "type", "reason": "Field required"}
    letters = world.client.get("/v1/dead-letters", headers=world.h("acme:admin")).json()["dead_letters"]
    assert letters[0]["reason"] == "type: Field required" and '"event_id":"x"' in letters[0]["raw"]
    assert world.client.get("/v1/dead-letters", headers=world.h("zeta:admin")).json()["dead_letters"] == []


def test_device_key_is_bound_to_its_device(world: World) -> None:
    body = {"events": [event("d1"), event("d2", source="gw-9")]}
    result = world.client.post("/v1/events", json=body, headers=world.h("acme:device")).json()
    assert [r["status"] for r in result["results"]] == ["accepted", "rejected"]
    assert result["results"][1]["error"]["field"] == "source"


def test_limits(world: World) -> None:
    too_many = {"events": [event(f"e{i}", source="gw-1") for i in range(51)]}
    response = world.client.post("/v1/events", json=too_many, headers=world.h("acme:admin"))
    assert response.status_code == 422 and "at most 50" in response.json()["error"]["message"]
    huge = b'{"events": [' + b" " * 200_001 + b"]}"
    response = world.client.post("/v1/events", content=huge, headers=world.h("acme:admin"))
    assert response.status_code == 413
    response = world.client.post("/v1/events", content=b"{nope", headers=world.h("acme:admin"))
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "body"
    response = world.client.post("/v1/events?format=csv", content=b"a,b", headers=world.h("acme:admin"))
    assert response.status_code == 422 and "unknown format" in response.json()["error"]["message"]


def test_operations_endpoints(world: World) -> None:
    assert world.client.get("/healthz").json() == {"status": "ok"}
    ready = world.client.get("/readyz").json()
    assert ready == {"status": "ready", "checks": {"database": "ok"}}
    world.client.post("/v1/events", json={"events": [event("m1", source="gw-1")]}, headers=world.h("acme:admin"))
    metrics = world.client.get("/metrics").text
    assert 'tradeoff_events_total{outcome="accepted",transport="http"}' in metrics
    spec = world.client.get("/openapi.json").json()
    assert "/v1/events" in spec["paths"] and world.client.get("/docs").status_code == 200


def test_manage_sites_devices_and_keys_over_http(world: World) -> None:
    h = world.h("acme:admin")
    site = world.client.post("/v1/sites", json={"name": "Corner", "kind": "store"}, headers=h).json()
    device = world.client.post(
        "/v1/devices", json={"external_id": "cam-1", "kind": "camera", "site_id": site["id"]}, headers=h
    ).json()
    assert device["site_id"] == site["id"]
    bad = world.client.post("/v1/devices", json={"external_id": "cam 2", "kind": "camera"}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "external_id"
    dup = world.client.post("/v1/devices", json={"external_id": "cam-1", "kind": "camera"}, headers=h)
    assert dup.status_code == 409
    issued = world.client.post("/v1/keys", json={"role": "device", "device_id": device["id"]}, headers=h).json()
    sent = world.client.post(
        "/v1/events", json={"events": [event("c1")]}, headers={"Authorization": f"Bearer {issued['secret']}"}
    ).json()
    assert sent["results"][0]["status"] == "accepted"
    assert world.client.delete(f"/v1/keys/{issued['id']}", headers=h).status_code == 204
    again = world.client.get("/v1/events", headers={"Authorization": f"Bearer {issued['secret']}"})
    assert again.status_code == 401
