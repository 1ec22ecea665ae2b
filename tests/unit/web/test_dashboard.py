"""The dashboard through its HTTP surface: login, CSRF, pages scoped to the tenant, the API via the session."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import HTMLResponse

from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key, create_user
from tradeoff.platform.container import Platform
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.device_state import list_device_status
from tradeoff.platform.settings import Settings
from tradeoff.server import create_server_app
from tradeoff.web import dashboard
from tradeoff.web.nav import add_nav_item
from tradeoff.web.render import UserDep, render
from tradeoff.web.session import SESSION_COOKIE

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Seed:
    url: str
    var_dir: Path
    acme_id: str
    other_id: str
    acme_key: str
    other_key: str


@pytest.fixture
def seed(tmp_path: Path) -> Seed:
    url = f"sqlite:///{tmp_path / 't.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        acme = tenancy.create_tenant(conn, slug="acme", name="Acme Stores")
        other = tenancy.create_tenant(conn, slug="other", name="Other Vending", kind="vending_operator")
        site = tenancy.create_site(conn, tenant_id=acme.id, name="Main Street")
        tenancy.create_device(
            conn, tenant_id=acme.id, external_id="gw-acme-1", kind="gateway", name="Front gateway", site_id=site.id
        )
        tenancy.create_device(conn, tenant_id=acme.id, external_id="cam-acme-2", kind="camera")
        tenancy.create_device(conn, tenant_id=other.id, external_id="vm-other-9", kind="vending_machine")
        create_user(conn, tenant_id=acme.id, username="alice", password=PASSWORD, role=Role.ADMIN)
        create_user(conn, tenant_id=acme.id, username="sam", password=PASSWORD, role=Role.STAFF)
        create_user(conn, tenant_id=other.id, username="olga", password=PASSWORD, role=Role.ADMIN)
        acme_key = create_api_key(conn, tenant_id=acme.id, role=Role.ADMIN, name="test").secret
        other_key = create_api_key(conn, tenant_id=other.id, role=Role.ADMIN, name="test").secret
    engine.dispose()
    return Seed(url, tmp_path, acme.id, other.id, acme_key, other_key)


def make_app(seed: Seed) -> FastAPI:
    return create_server_app(Settings(database_url=seed.url, var_dir=seed.var_dir, secret_key=""))


@pytest.fixture
def client(seed: Seed) -> Iterator[TestClient]:
    with TestClient(make_app(seed)) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def login(client: TestClient, username: str = "alice", password: str = PASSWORD, next_path: str = "/") -> Any:
    token = csrf_of(client.get("/login").text)
    form = {"username": username, "password": password, "csrf_token": token, "next": next_path}
    return client.post("/login", data=form, follow_redirects=False)


def event(event_id: str, source: str, *, type_: str = "device.telemetry", **payload: Any) -> dict[str, Any]:
    occurred = datetime.now(UTC).isoformat()
    return {"event_id": event_id, "type": type_, "occurred_at": occurred, "source": source, "payload": payload}


def post_events(client: TestClient, key: str, *events: dict[str, Any]) -> None:
    response = client.post("/v1/events", json={"events": list(events)}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(events)


def wait_for_device_state(client: TestClient, tenant_id: str, sources: set[str]) -> None:
    """Processors run in the background; wait until they projected the sources' state."""
    platform: Platform = client.app.state.platform
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with platform.engine.connect() as conn:
            found = {status.source for status in list_device_status(conn, tenant_id=tenant_id)}
        if sources <= found:
            return
        time.sleep(0.05)
    pytest.fail(f"device state for {sources} was not projected in time")


def stat(html: str, name: str) -> int:
    match = re.search(rf'data-testid="stat-{name}"><span class="value">(\d+)</span>', html)
    assert match, f"stat {name} not on the page"
    return int(match.group(1))


@pytest.mark.parametrize("path", ["/", "/devices", "/events", "/dead-letters"])
def test_pages_redirect_to_login_when_logged_out(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_login_form_is_served_with_local_assets_and_strict_headers(client: TestClient) -> None:
    response = client.get("/login?next=/events")
    assert response.status_code == 200
    assert 'name="next" value="/events"' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert "http://" not in response.text and "https://" not in response.text  # no CDN
    for asset in ("/static/app.css", "/static/app.js", "/static/favicon.svg"):
        assert client.get(asset).status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "httponly" in cookie and "samesite=lax" in cookie


def test_wrong_password_shows_the_form_again_with_401(client: TestClient) -> None:
    response = login(client, password="wrong password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert 'value="alice"' in response.text
    assert login(client, username="nobody").status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_then_logout(client: TestClient) -> None:
    response = login(client)
    assert response.status_code == 303 and response.headers["location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Acme Stores" in page.text and "alice" in page.text
    assert client.get("/login", follow_redirects=False).headers["location"] == "/"

    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in

    response = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_goes_to_next_but_never_off_site(client: TestClient) -> None:
    assert login(client, next_path="/devices").headers["location"] == "/devices"
    client.cookies.clear()
    assert login(client, next_path="//evil.example/x").headers["location"] == "/"
    client.cookies.clear()
    assert login(client, next_path="https://evil.example/").headers["location"] == "/"


def test_login_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    form = {"username": "alice", "password": PASSWORD}
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert "expired" in response.text
    response = client.post("/login", data={**form, "csrf_token": "guess"}, follow_redirects=False)
    assert response.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_tampered_session_cookie_is_ignored(client: TestClient) -> None:
    login(client)
    value = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value[:-3] + "xyz")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_overview_counts_only_the_tenants_own_data(client: TestClient, seed: Seed) -> None:
    post_events(client, seed.acme_key, event("a-1", "gw-acme-1", temp_c=4), event("a-2", "sensor-x"))
    post_events(client, seed.other_key, *(event(f"o-{i}", "vm-other-9") for i in range(5)))
    bad = client.post("/v1/events", content=b"{not json", headers={"Authorization": f"Bearer {seed.acme_key}"})
    assert bad.status_code == 422
    wait_for_device_state(client, seed.acme_id, {"gw-acme-1", "sensor-x"})
    wait_for_device_state(client, seed.other_id, {"vm-other-9"})

    login(client)
    html = client.get("/").text
    assert "Acme Stores" in html and "Other Vending" not in html
    assert stat(html, "sites") == 1
    assert stat(html, "devices") == 2
    assert stat(html, "sources") == 2
    assert stat(html, "events") == 2
    assert stat(html, "dead-letters") == 1


def test_devices_page_joins_registry_and_state(client: TestClient, seed: Seed) -> None:
    post_events(client, seed.acme_key, event("a-1", "gw-acme-1", temp_c=4.5), event("a-2", "sensor-x"))
    post_events(client, seed.other_key, event("o-1", "vm-other-9"), event("o-2", "other-sensor"))
    wait_for_device_state(client, seed.acme_id, {"gw-acme-1", "sensor-x"})
    wait_for_device_state(client, seed.other_id, {"vm-other-9", "other-sensor"})

    login(client)
    html = client.get("/devices").text
    gateway = re.search(r'<tr data-device="gw-acme-1">(.*?)</tr>', html, re.S)
    camera = re.search(r'<tr data-device="cam-acme-2">(.*?)</tr>', html, re.S)
    assert gateway and camera
    assert "Front gateway" in gateway.group(1) and "Main Street" in gateway.group(1)
    assert "state-online" in gateway.group(1) and "temp_c" in gateway.group(1)
    assert "never seen" in camera.group(1)
    assert 'data-source="sensor-x"' in html
    assert "vm-other-9" not in html and "other-sensor" not in html


def test_events_page_renders_recent_events_and_subscribes_to_the_stream(client: TestClient, seed: Seed) -> None:
    post_events(client, seed.acme_key, event("a-1", "gw-acme-1", label="<script>alert(1)</script>"))
    post_events(client, seed.other_key, event("o-1", "vm-other-9"))
    login(client)
    html = client.get("/events").text
    assert 'data-event-id="a-1"' in html
    assert 'data-event-id="o-1"' not in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert 'data-stream="/v1/events/stream"' in html
    assert 'data-after-seq="2"' in html  # the stream resumes after everything already in the log


def test_dead_letters_are_for_admins_only(client: TestClient, seed: Seed) -> None:
    client.post("/v1/events", content=b"garbage!", headers={"Authorization": f"Bearer {seed.acme_key}"})
    client.post("/v1/events", content=b"theirs!!", headers={"Authorization": f"Bearer {seed.other_key}"})

    login(client, username="sam")
    assert 'href="/dead-letters"' not in client.get("/").text
    response = client.get("/dead-letters")
    assert response.status_code == 403
    assert "Not allowed" in response.text

    client.cookies.clear()
    login(client, username="alice")
    assert 'href="/dead-letters"' in client.get("/").text
    html = client.get("/dead-letters").text
    assert "undecodable" in html and "garbage!" in html
    assert "theirs!!" not in html


def test_the_session_authorizes_api_reads_of_its_own_tenant(client: TestClient, seed: Seed) -> None:
    post_events(client, seed.acme_key, event("a-1", "gw-acme-1"))
    post_events(client, seed.other_key, event("o-1", "vm-other-9"))
    assert client.get("/v1/events").status_code == 401
    assert client.get("/v1/events/stream").status_code == 401

    login(client)
    response = client.get("/v1/events")
    assert response.status_code == 200
    assert [e["event_id"] for e in response.json()["events"]] == ["a-1"]
    assert client.get("/v1/tenant").json()["id"] == seed.acme_id

    with client.stream("GET", "/v1/events/stream?after_seq=0") as stream:
        assert stream.status_code == 200
        data = next(line for line in stream.iter_lines() if line.startswith("data:"))
    assert '"event_id":"a-1"' in data


def test_the_session_cookie_alone_never_authorizes_a_write(client: TestClient) -> None:
    login(client)
    token = csrf_of(client.get("/").text)
    assert client.post("/v1/sites", json={"name": "Depot"}).status_code == 401
    assert client.post("/v1/sites", json={"name": "Depot"}, headers={"X-CSRF-Token": "nope"}).status_code == 401
    response = client.post("/v1/sites", json={"name": "Depot"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 201


def test_sessions_survive_a_restart_with_the_generated_secret(seed: Seed) -> None:
    with TestClient(make_app(seed)) as first:
        login(first)
        cookie = first.cookies[SESSION_COOKIE]
    secret_file = seed.var_dir / "secret_key"
    assert secret_file.stat().st_mode & 0o777 == 0o600
    with TestClient(make_app(seed)) as second:
        second.cookies.set(SESSION_COOKIE, cookie)
        assert second.get("/", follow_redirects=False).status_code == 200


def test_a_capability_page_plugs_into_the_dashboard(seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    def install(app: FastAPI, platform: Platform) -> None:
        router = APIRouter()

        @router.get("/machines", response_class=HTMLResponse)
        def machines(request: Request, user: UserDep) -> HTMLResponse:
            return render(request, "error.html", {"title": "Machines", "message": f"for {user.tenant_id}"})

        app.include_router(router)
        add_nav_item(app, "Machines", "/machines", roles={Role.ADMIN}, order=40)

    monkeypatch.setattr(dashboard, "PAGES", [install])
    with TestClient(make_app(seed)) as client:
        assert client.get("/machines", follow_redirects=False).status_code == 303
        login(client)
        html = client.get("/machines").text
        assert f"for {seed.acme_id}" in html
        nav = re.findall(r'<li><a href="([^"]+)"', html)
        assert nav == ["/", "/devices", "/events", "/machines", "/dead-letters"]
        assert 'href="/machines" aria-current="page"' in html
