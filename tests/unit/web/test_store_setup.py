"""Store setup pages: the plan as inline SVG, no-JS forms with CSRF, the tenant's own sites only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_user
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings
from tradeoff.presence.setup import api, floorplan, service
from tradeoff.presence.setup.beacons import BeaconStatus
from tradeoff.presence.setup.capability import register
from tradeoff.web import dashboard, store_setup

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
UUID = "426c7565-4368-6172-6d42-6561636f6e73"


def store_setup_app(settings: Settings) -> tuple[FastAPI, Platform]:
    """The served app with store setup wired in (as the composition root will do)."""
    platform = build_platform(settings)
    if not any(router is api.router for router in platform.routers):
        register(platform)
    extensions = [dashboard.install_dashboard]
    if store_setup.install not in dashboard.PAGES:
        extensions.append(store_setup.install)
    return create_app(settings, platform=platform, extensions=extensions), platform


@dataclass
class Seed:
    client: TestClient
    site: str
    other_site: str
    gateway: str


@pytest.fixture
def seed(tmp_path: Path) -> Iterator[Seed]:
    url = f"sqlite:///{tmp_path / 't.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        acme = tenancy.create_tenant(conn, slug="acme", name="Acme Stores")
        other = tenancy.create_tenant(conn, slug="other", name="Other")
        site = tenancy.create_site(conn, tenant_id=acme.id, name="Main Street")
        tenancy.create_site(conn, tenant_id=acme.id, name="Back Lane")
        other_site = tenancy.create_site(conn, tenant_id=other.id, name="Secret Store")
        gateway = tenancy.create_device(
            conn, tenant_id=acme.id, external_id="gw-front", kind="gateway", site_id=site.id
        )
        create_user(conn, tenant_id=acme.id, username="alice", password=PASSWORD, role=Role.STAFF)
    engine.dispose()
    settings = Settings(database_url=url, var_dir=tmp_path, keyring_path=tmp_path / "k.json", run_processors=False)
    app, platform = store_setup_app(settings)
    try:
        with TestClient(app) as client:
            token = CSRF_RE.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
            form = {"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "/"}
            assert client.post("/login", data=form, follow_redirects=False).status_code == 303
            yield Seed(client, site.id, other_site.id, gateway.id)
    finally:
        platform.close()


def page(seed: Seed, path: str | None = None) -> str:
    response = seed.client.get(path or f"/stores/{seed.site}")
    assert response.status_code == 200, response.text
    return response.text


def post(seed: Seed, action: str, expect: int = 303, **form: Any) -> Any:
    token = CSRF_RE.search(page(seed)).group(1)  # type: ignore[union-attr]
    response = seed.client.post(
        f"/stores/{seed.site}/{action}", data={"csrf_token": token, **form}, follow_redirects=False
    )
    assert response.status_code == expect, response.text[:2000]
    return response


def test_stores_list_and_nav(seed: Seed) -> None:
    html = page(seed, "/stores")
    assert 'href="/stores"' in html and "Main Street" in html and "Back Lane" in html
    assert "not drawn yet" in html and "Secret Store" not in html
    assert seed.client.get(f"/stores/{seed.other_site}").status_code in (403, 404)
    seed.client.cookies.clear()
    assert seed.client.get("/stores", follow_redirects=False).headers["location"] == "/login?next=/stores"


def test_set_up_a_store_with_forms_only(seed: Seed) -> None:
    assert 'data-testid="no-plan"' in page(seed)
    post(seed, "zones", 409, name="dairy", points="0,0 1,0 1,1")  # no plan yet: nothing to draw on
    post(seed, "plan", width_m="20", height_m="10")
    post(seed, "zones", name="dairy", label="Dairy", points="0,0 10,0 10,10 0,10")
    html = post(seed, "zones", 422, name="bad", points="0,0 5,5 5,0 0,5").text
    assert "cross or overlap" in html and 'role="alert"' in html
    post(seed, "beacons", kind="ibeacon", identity=f"{UUID} 1 2", label="Milk", x_m="4", y_m="6", skus="milk, cream")
    post(seed, "gateways", device_id=seed.gateway, x_m="15", y_m="2")
    html = page(seed)
    assert re.search(r'<polygon points="0,10 10,10 10,0 0,0"', html)  # y flipped: SVG's origin is top-left
    assert 'data-drag="beacon"' in html and "translate(4.0,4.0)" in html
    assert 'data-drag="gateway"' in html and "translate(15.0,8.0)" in html
    row = re.search(r'<tr data-beacon="(\w+)" data-health="never">(.*?)</tr>', html, re.DOTALL)
    assert row and "Milk" in row.group(2) and "dairy" in row.group(2) and ">milk</span>" in row.group(2)
    assert " style=" not in html and "<script>" not in html  # the page CSP allows neither

    beacon_id = row.group(1)
    post(seed, "beacons/update", beacon_id=beacon_id, label="Milk", x_m="12", y_m="5", skus="butter")
    views = seed.client.get(f"/v1/sites/{seed.site}/beacons").json()["beacons"]
    assert views[0]["x_m"] == 12 and views[0]["zone"] is None and views[0]["skus"] == ["butter"]
    post(seed, "zones/delete", name="dairy")
    post(seed, "beacons/delete", beacon_id=beacon_id)
    post(seed, "gateways", device_id=seed.gateway, remove="1")
    html = page(seed)
    assert "No beacons yet." in html and "No zones yet." in html and 'data-drag="gateway"' not in html


def test_image_upload_is_referenced_never_inlined(seed: Seed) -> None:
    post(seed, "plan", width_m="8", height_m="6")
    token = CSRF_RE.search(page(seed)).group(1)  # type: ignore[union-attr]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert("x")</script></svg>'
    files = {"image": ("plan.svg", svg, "image/svg+xml")}
    response = seed.client.post(
        f"/stores/{seed.site}/image", data={"csrf_token": token}, files=files, follow_redirects=False
    )
    assert response.status_code == 303
    html = page(seed)
    assert f'<image href="/v1/sites/{seed.site}/floor-plan/image?v=' in html and "alert(" not in html
    files = {"image": ("plan.gif", b"GIF89a", "image/gif")}
    response = seed.client.post(f"/stores/{seed.site}/image", data={"csrf_token": token}, files=files)
    assert response.status_code == 422 and "PNG, JPEG or SVG" in response.text
    post(seed, "image", remove="1")
    assert "<image " not in page(seed)


def test_forms_need_the_csrf_token_and_the_tenants_own_site(seed: Seed) -> None:
    response = seed.client.post(f"/stores/{seed.site}/plan", data={"width_m": "5", "height_m": "5"})
    assert response.status_code == 403 and 'data-testid="no-plan"' in page(seed)
    token = CSRF_RE.search(page(seed)).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": token, "width_m": "5", "height_m": "5"}
    response = seed.client.post(f"/stores/{seed.other_site}/plan", data=form)
    assert response.status_code in (403, 404) and "Secret Store" not in response.text
    # The API's writes need the CSRF header with the cookie, like every /v1 write.
    plan = {"width_m": 5, "height_m": 5}
    assert seed.client.put(f"/v1/sites/{seed.site}/floor-plan", json=plan).status_code == 401
    ok = seed.client.put(f"/v1/sites/{seed.site}/floor-plan", json=plan, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200


def test_drawing_flips_y_and_colours_by_health() -> None:
    plan = floorplan.parse_plan({"width_m": 10, "height_m": 4, "zones": []})
    now = datetime(2026, 11, 29, tzinfo=UTC)
    beacon = service.Beacon("b1", "t", "s", "ibeacon", f"{UUID}/1/2", "Milk", 1.0, 1.0, None, None, [], [], now, now)
    low = BeaconStatus(now, -60.0, "gw", None, 2100, None, None, now, 3)
    unplaced = service.Beacon(
        "b2", "t", "s", "ibeacon", f"{UUID}/1/3", "Eggs", None, None, None, None, [], [], now, now
    )
    drawing = store_setup.plan_drawing(
        plan,
        [service.BeaconView(beacon, low, "low-battery"), service.BeaconView(unplaced, None, "never")],
        [service.GatewayView("g1", "gw-1", "Front", "s", 9.0, 4.0, None, None)],
    )
    (marker,) = drawing["beacons"]
    assert (marker.x, marker.y, marker.colour) == (1.0, 3.0, store_setup.HEALTH_COLOURS["low-battery"])
    assert (drawing["gateways"][0].x, drawing["gateways"][0].y) == (9.0, 0.0)
