"""Store setup through ``/v1/sites/{site_id}/…`` on both backends: plan, image, beacons, gateways, roles,
tenant isolation, and beacon status fed by real ``presence.sighting`` events through the pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.tables import sites
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings
from tradeoff.presence.gateways.sighting import Sighting, device, eddystone, ibeacon
from tradeoff.presence.setup import api, service
from tradeoff.presence.setup.capability import register
from tradeoff.presence.tracking.zones import Receiver

UUID = "426c7565-4368-6172-6d42-6561636f6e73"
NS = "12345678901234678901"
PLAN = {
    "width_m": 20,
    "height_m": 10,
    "zones": [
        {"name": "dairy", "label": "Dairy", "polygon": [[0, 0], [10, 0], [10, 10], [0, 10]]},
        {"name": "bakery", "label": "Bakery", "polygon": [[10, 0], [20, 0], [20, 10], [10, 10]]},
    ],
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def with_store_setup(platform: Platform) -> Platform:
    """Register the capability unless the composition root already does."""
    if not any(router is api.router for router in platform.routers):
        register(platform)
    return platform


@dataclass
class World:
    client: TestClient
    platform: Platform
    keys: dict[str, str]
    ids: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def call(self, method: str, path: str, who: str = "acme:admin", **kwargs: Any) -> Any:
        return self.client.request(method, path, headers={**self.h(who), **kwargs.pop("headers", {})}, **kwargs)

    def ok(self, method: str, path: str, who: str = "acme:admin", **kwargs: Any) -> Any:
        response = self.call(method, path, who, **kwargs)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content and "json" in response.headers["content-type"] else None

    def site(self, tenant: str = "acme") -> str:
        return f"/v1/sites/{self.ids[f'{tenant}:site']}"


@pytest.fixture
def world(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    keys: dict[str, str] = {}
    ids: dict[str, str] = {}
    with engine.begin() as conn:
        for slug in ("acme", "zeta"):
            tenant = tenancy.create_tenant(conn, slug=slug, name=slug.title())
            ids[slug] = tenant.id
            site = tenancy.create_site(conn, tenant_id=tenant.id, name=f"{slug} store")
            ids[f"{slug}:site"] = site.id
            for ext in ("gw-1", "gw-2"):
                gateway = tenancy.create_device(
                    conn, tenant_id=tenant.id, external_id=f"{slug}-{ext}", kind="gateway", site_id=site.id
                )
                ids[f"{slug}:{ext}"] = gateway.id
            ids[f"{slug}:pos"] = tenancy.create_device(
                conn, tenant_id=tenant.id, external_id=f"{slug}-pos", kind="pos"
            ).id
            for role in Role:
                keys[f"{slug}:{role.value}"] = create_api_key(
                    conn, tenant_id=tenant.id, role=role, name=role.value
                ).secret
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        keyring_path=tmp_path / "keys" / "keyring.json",
        run_processors=False,
    )
    platform = with_store_setup(build_platform(settings))
    try:
        with TestClient(create_app(settings, platform=platform)) as client:
            yield World(client, platform, keys, ids)
    finally:
        platform.close()


def _sightings(world: World, *sightings: Sighting, source: str = "acme-gw-1", who: str = "acme:device") -> None:
    events = [
        {
            "event_id": f"s-{index}-{s.at.timestamp()}-{s.identity.id[-6:]}",
            "type": "presence.sighting",
            "occurred_at": s.at.isoformat(),
            "source": source,
            "payload": s.to_payload(),
        }
        for index, s in enumerate(sightings)
    ]
    result = world.ok("POST", "/v1/events", who, json={"events": events})
    assert all(item["status"] == "accepted" for item in result["results"]), result
    world.platform.bus.drain()


def test_plan_beacons_and_gateways_round_trip(world: World) -> None:
    site = world.site()
    assert world.ok("GET", f"{site}/floor-plan")["plan"] is None
    assert world.call("POST", f"{site}/beacons", json={"kind": "ibeacon", "id": f"{UUID}/1/2"}).status_code == 409
    saved = world.ok("PUT", f"{site}/floor-plan", json=PLAN)
    assert [z["name"] for z in saved["plan"]["zones"]] == ["dairy", "bakery"] and saved["image"] is None

    made = world.ok(
        "POST",
        f"{site}/beacons",
        json={"kind": "ibeacon", "uuid": UUID.replace("-", "").upper(), "major": 3838, "minor": 4949,
              "label": "Milk shelf", "x_m": 4, "y_m": 5, "measured_power": -59, "skus": ["milk-1l", "milk-1l"]},
    )  # fmt: skip
    assert made["key"] == f"ibeacon:{UUID}/3838/4949" and made["zone"] == "dairy" and made["skus"] == ["milk-1l"]
    assert made["health"] == "never" and made["status"] is None
    again = world.call("POST", f"{site}/beacons", json={"kind": "ibeacon", "id": f"{UUID} 3838 4949"})
    assert again.status_code == 409
    beacon = f"{site}/beacons/{made['id']}"
    moved = world.ok("PATCH", beacon, json={"x_m": 15, "y_m": 5})
    assert moved["zone"] == "bakery"
    products = world.ok("PUT", f"{beacon}/products", json={"skus": ["bread"], "categories": ["bakery"]})
    assert products["skus"] == ["bread"] and products["categories"] == ["bakery"]
    eddy = world.ok("POST", f"{site}/beacons", json={"kind": "eddystone", "namespace": NS, "instance": "000000000001"})
    assert eddy["x_m"] is None and eddy["zone"] is None and eddy["label"] == f"{NS}/000000000001"

    placed = world.ok("PUT", f"{site}/gateways/{world.ids['acme:gw-1']}/placement", json={"x_m": 2, "y_m": 2})
    assert placed["zone"] == "dairy" and placed["external_id"] == "acme-gw-1"
    gateways = {g["external_id"]: g for g in world.ok("GET", f"{site}/gateways")["gateways"]}
    assert gateways["acme-gw-1"]["x_m"] == 2 and gateways["acme-gw-2"]["x_m"] is None
    pos = world.call("PUT", f"{site}/gateways/{world.ids['acme:pos']}/placement", json={"x_m": 1, "y_m": 1})
    assert pos.status_code == 422

    # Removing a zone re-zones what stood in it by position.
    world.ok("PUT", f"{site}/floor-plan", json={**PLAN, "zones": PLAN["zones"][1:]})
    gateways = {g["external_id"]: g for g in world.ok("GET", f"{site}/gateways")["gateways"]}
    assert gateways["acme-gw-1"]["zone"] is None
    assert world.ok("GET", beacon)["zone"] == "bakery"

    world.ok("DELETE", beacon)
    assert world.call("GET", beacon).status_code == 404
    assert [b["id"] for b in world.ok("GET", f"{site}/beacons")["beacons"]] == [eddy["id"]]
    world.ok("DELETE", f"{site}/gateways/{world.ids['acme:gw-1']}/placement")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PLAN, "width_m": 2000}, "width_m"),
        ({**PLAN, "zones": [{"name": "x", "polygon": [[0, 0], [5, 5], [5, 0], [0, 5]]}]}, "zones[0].polygon"),
        ({**PLAN, "zones": [{"name": "x", "polygon": [[0, 0], [50, 0], [5, 5]]}]}, "zones[0].polygon[1]"),
        ({**PLAN, "zones": PLAN["zones"] + [PLAN["zones"][0]]}, "zones[2].name"),
        ({**PLAN, "zones": [{"name": "Bad Name", "polygon": [[0, 0], [1, 0], [0, 1]]}]}, "zones[0].name"),
    ],
)
def test_bad_plans_name_the_field(world: World, body: dict[str, Any], field: str) -> None:
    response = world.call("PUT", f"{world.site()}/floor-plan", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_background_image_is_sniffed_limited_and_served_sandboxed(world: World) -> None:
    site = world.site()
    world.ok("PUT", f"{site}/floor-plan", json=PLAN)
    assert world.call("GET", f"{site}/floor-plan/image").status_code == 404
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    doc = world.ok("PUT", f"{site}/floor-plan/image", content=svg, headers={"Content-Type": "image/png"})
    assert doc["image"]["content_type"] == "image/svg+xml" and doc["image"]["size"] == len(svg)
    served = world.call("GET", doc["image"]["url"])
    assert served.status_code == 200 and served.content == svg
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in served.headers["content-security-policy"]
    assert "default-src 'none'" in served.headers["content-security-policy"]
    assert served.headers["x-content-type-options"] == "nosniff"
    world.ok("PUT", f"{site}/floor-plan/image", content=PNG)
    assert world.ok("GET", f"{site}/floor-plan")["image"]["content_type"] == "image/png"
    assert world.call("PUT", f"{site}/floor-plan/image", content=b"<html><script>").status_code == 422
    assert world.call("PUT", f"{site}/floor-plan/image", content=PNG + b"\x00" * (2 * 1024 * 1024)).status_code == 413
    assert world.call("GET", f"{world.site('zeta')}/floor-plan/image").status_code in (403, 404)
    world.ok("DELETE", f"{site}/floor-plan/image")
    assert world.ok("GET", f"{site}/floor-plan")["image"] is None


def test_roles_and_tenants(world: World) -> None:
    site, other = world.site(), world.site("zeta")
    world.ok("PUT", f"{site}/floor-plan", json=PLAN, who="acme:staff")
    for who in ("acme:device", "acme:pos"):
        assert world.call("GET", f"{site}/beacons", who).status_code == 403
        assert world.call("PUT", f"{site}/floor-plan", who, json=PLAN).status_code == 403
    world.ok("PUT", f"{other}/floor-plan", json=PLAN, who="zeta:admin")
    theirs = world.ok("POST", f"{other}/beacons", "zeta:admin", json={"kind": "ibeacon", "id": f"{UUID}/1/1"})
    assert world.call("GET", f"{other}/beacons").status_code == 403
    assert world.call("GET", f"{other}/floor-plan").status_code == 403
    assert world.call("PATCH", f"{site}/beacons/{theirs['id']}", json={"label": "mine"}).status_code == 404
    assert world.call("DELETE", f"{other}/beacons/{theirs['id']}").status_code == 403
    zeta_gw = world.ids["zeta:gw-1"]
    assert world.call("PUT", f"{site}/gateways/{zeta_gw}/placement", json={"x_m": 1, "y_m": 1}).status_code == 403
    # The same beacon identity may be registered by another tenant (it is their hardware).
    world.ok("POST", f"{site}/beacons", json={"kind": "ibeacon", "id": f"{UUID}/1/1"})
    assert world.ok("GET", f"{other}/beacons/{theirs['id']}", "zeta:admin")["label"] == f"{UUID}/1/1"


def test_status_follows_sightings_of_known_beacons_only(world: World) -> None:
    site = world.site()
    world.ok("PUT", f"{site}/floor-plan", json=PLAN)
    made = world.ok("POST", f"{site}/beacons", json={"kind": "eddystone", "namespace": NS, "instance": "0000000000aa"})
    world.ok("PUT", f"{world.site('zeta')}/floor-plan", json=PLAN, who="zeta:admin")
    theirs = world.ok(
        "POST", f"{world.site('zeta')}/beacons", "zeta:admin", json={"kind": "ibeacon", "id": f"{UUID}/7/7"}
    )
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    beacon = eddystone(NS, "0000000000aa")
    _sightings(
        world,
        Sighting("espresense", "acme-gw-1", beacon, t0, rssi=-70.5, room="dairy", battery_mv=2950, temperature_c=19.0),
        Sighting("espresense", "acme-gw-2", beacon, t0 + timedelta(seconds=20), rssi=-64.0),
        Sighting("espresense", "acme-gw-1", device("aa:bb:cc:dd:ee:ff"), t0, rssi=-50.0),  # a phone: ignored
        Sighting("espresense", "acme-gw-1", ibeacon(UUID, 7, 7), t0, rssi=-60.0),  # zeta's beacon, acme's gateway
    )
    status = world.ok("GET", f"{site}/beacons/{made['id']}")["status"]
    assert status["last_gateway"] == "acme-gw-2" and status["last_rssi"] == -64.0 and status["sightings_count"] == 2
    assert status["battery_mv"] == 2950 and status["temperature_c"] == 19.0
    assert world.ok("GET", f"{site}/beacons/{made['id']}")["health"] == "fresh"
    assert world.ok("GET", f"{world.site('zeta')}/beacons/{theirs['id']}", "zeta:admin")["status"] is None

    # An older event arriving late counts, but moves neither the last sighting nor the battery back.
    _sightings(world, Sighting("omg", "acme-gw-1", beacon, t0 - timedelta(minutes=5), rssi=-90.0, battery_mv=2100))
    status = world.ok("GET", f"{site}/beacons/{made['id']}")["status"]
    assert status["last_rssi"] == -64.0 and status["battery_mv"] == 2950 and status["sightings_count"] == 3
    # A newer low battery reading turns the beacon red.
    _sightings(world, Sighting("omg", "acme-gw-1", beacon, t0 + timedelta(seconds=40), rssi=-66.0, battery_mv=2300))
    view = world.ok("GET", f"{site}/beacons/{made['id']}")
    assert view["health"] == "low-battery" and view["low_battery"] and view["status"]["battery_mv"] == 2300


def test_receivers_for_zone_estimation_and_plan_keys_of_other_tools(world: World) -> None:
    site_id, tenant_site = world.ids["acme:site"], world.site()
    receivers = [{"key": "office", "zone": "dairy"}]
    with world.platform.engine.begin() as conn:
        conn.execute(
            update(sites).where(sites.c.id == site_id).values(floor_plan={"width_m": 0, "receivers": receivers})
        )
    world.ok("PUT", f"{tenant_site}/floor-plan", json=PLAN)
    world.ok("POST", f"{tenant_site}/beacons", json={"kind": "ibeacon", "id": f"{UUID}/1/2", "x_m": 15, "y_m": 1})
    world.ok("POST", f"{tenant_site}/beacons", json={"kind": "ibeacon", "id": f"{UUID}/1/3", "measured_power": -65})
    world.ok("PUT", f"{tenant_site}/gateways/{world.ids['acme:gw-2']}/placement", json={"x_m": 1, "y_m": 1})
    with world.platform.engine.begin() as conn:
        tenant_id = world.ids["acme"]
        stored = tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id).floor_plan
        found = service.receivers(conn, tenant_id=tenant_id, site_id=site_id)
    assert stored["receivers"] == receivers and stored["width_m"] == 20
    assert found == {
        "acme-gw-2": Receiver(zone="dairy"),
        f"ibeacon:{UUID}/1/2": Receiver(zone="bakery", measured_power=-59.0),
    }  # the unplaced beacon has no zone: not a receiver
