"""The shopper portal through its HTTP surface: one-time links, the app-token form, the portal's own
session cookie, consent changes (CSRF, policy version, GPC), export and erasure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key, create_user
from tradeoff.platform.container import Platform
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.settings import Settings
from tradeoff.privacy.capability import privacy_of
from tradeoff.server import create_server_app
from tradeoff.web.portal_link import ENTERED, LINK_TTL
from tradeoff.web.portal_session import PORTAL_COOKIE, SESSION_TTL, portal_state
from tradeoff.web.portal_view import POLICY_VERSION

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Env:
    client: TestClient
    url: str
    acme_id: str
    other_id: str
    keys: dict[str, str]

    @property
    def platform(self) -> Platform:
        platform: Platform = self.client.app.state.platform  # type: ignore[attr-defined]
        return platform

    def register(self, tenant: str = "acme", tier: int | None = 2) -> tuple[str, str]:
        """A new shopper: ``(subject_id, app_token)``."""
        body = {"consent": {"tier": tier, "policy_version": "2026-11", "source": "app"}} if tier is not None else None
        headers = {"Authorization": f"Bearer {self.keys[f'{tenant}:device']}"}
        response = self.client.post("/v1/me/register", headers=headers, json=body)
        assert response.status_code == 201, response.text
        return response.json()["subject_id"], response.json()["app_token"]

    def link(self, app_token: str) -> str:
        response = self.client.post("/v1/me/portal-link", headers={"Authorization": f"Bearer {app_token}"})
        assert response.status_code == 200, response.text
        url: str = response.json()["url"]
        return url

    def enter(self, app_token: str) -> None:
        response = self.client.get(self.link(app_token), follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/portal", response.text

    def send(self, app_token: str, n: int, type_: str = "presence.sighting") -> None:
        now = datetime.now(UTC).isoformat()
        events = [
            {"event_id": f"ev-{i}", "type": type_, "occurred_at": now, "payload": {"zone": "bakery"}} for i in range(n)
        ]
        headers = {"Authorization": f"Bearer {app_token}"}
        response = self.client.post("/v1/me/events", headers=headers, json={"events": events})
        assert response.status_code == 200, response.text
        assert [item["status"] for item in response.json()["results"]] == ["accepted"] * n

    def home(self, **headers: str) -> str:
        response = self.client.get("/portal", headers=headers)
        assert response.status_code == 200
        return response.text


@contextmanager
def make_env(tmp_path: Path, url: str | None = None, *, app_role: str | None = None) -> Iterator[Env]:
    """A migrated database with two tenants (device and admin keys, dashboard users) and the server app;
    with ``app_role`` (PostgreSQL), request handlers run as that row-level-security-bound role."""
    url = url or f"sqlite:///{tmp_path / 't.db'}"
    upgrade(url, app_role=app_role)
    engine = make_engine(url)
    keys: dict[str, str] = {}
    with engine.begin() as conn:
        acme = tenancy.create_tenant(conn, slug="acme", name="Acme Stores")
        other = tenancy.create_tenant(conn, slug="other", name="Other Shop")
        for slug, tenant in (("acme", acme), ("other", other)):
            for role in (Role.DEVICE, Role.ADMIN):
                keys[f"{slug}:{role.value}"] = create_api_key(
                    conn, tenant_id=tenant.id, role=role, name=role.value
                ).secret
        create_user(conn, tenant_id=acme.id, username="alice", password=PASSWORD, role=Role.ADMIN)
        create_user(conn, tenant_id=acme.id, username="sam", password=PASSWORD, role=Role.STAFF)
        create_user(conn, tenant_id=other.id, username="olga", password=PASSWORD, role=Role.ADMIN)
    engine.dispose()
    app_url = url.replace("postgres@", f"{app_role}@", 1) if app_role else ""
    settings = Settings(
        database_url=url, app_database_url=app_url, var_dir=tmp_path, keyring_path=tmp_path / "keys" / "keyring.json"
    )
    with TestClient(create_server_app(settings)) as client:
        yield Env(client, url, acme.id, other.id, keys)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with make_env(tmp_path) as value:
        yield value


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def tier_of(html: str) -> int:
    match = re.search(r'data-testid="tier" data-tier="(\d)"', html)
    assert match, "no tier on the page"
    return int(match.group(1))


def code_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["code"][0]


# --- getting in ---------------------------------------------------------------------------------------


def test_a_one_time_link_signs_in_once(env: Env) -> None:
    subject_id, token = env.register()
    response = env.client.post("/v1/me/portal-link", headers={"Authorization": f"Bearer {token}"})
    doc = response.json()
    assert doc["url"].startswith("/portal/enter?code=")
    expires = datetime.fromisoformat(doc["expires_at"])
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= LINK_TTL
    assert subject_id not in doc["url"] and env.acme_id not in doc["url"]  # sealed: nothing readable

    entered = env.client.get(doc["url"], follow_redirects=False)
    assert entered.status_code == 303 and entered.headers["location"] == "/portal"
    cookie = entered.headers["set-cookie"].lower()
    assert cookie.startswith(f"{PORTAL_COOKIE}=") and "httponly" in cookie and "path=/portal" in cookie
    assert "samesite=lax" in cookie and f"max-age={int(SESSION_TTL.total_seconds())}" in cookie
    assert subject_id not in entered.headers["set-cookie"]
    page = env.home()
    assert "What is held about you" in page and tier_of(page) == 2

    env.client.cookies.clear()
    again = env.client.get(doc["url"], follow_redirects=False)
    assert again.status_code == 400 and "already used" in again.text
    assert PORTAL_COOKIE not in again.headers.get("set-cookie", "") or "What is held" not in env.home()


def test_link_use_is_recorded_in_the_audit_chain_by_hash(env: Env) -> None:
    subject_id, token = env.register()
    url = env.link(token)
    env.client.get(url, follow_redirects=False)
    services = privacy_of(env.platform)
    from tradeoff.privacy.audit import entries_for_subject

    with env.platform.engine.connect() as conn:
        entries = entries_for_subject(conn, keys=services.keys, tenant_id=env.acme_id, subject_id=subject_id)
    entered = [entry for entry in entries if entry.action == ENTERED]
    assert len(entered) == 1 and entered[0].actor == "subject"
    assert entered[0].details["via"] == "link" and entered[0].details["link"].startswith("l")
    assert code_of(url) not in str(entered[0].details)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda code: code[:-4] + ("AAAA" if not code.endswith("AAAA") else "BBBB"),
        lambda code: "",
        lambda code: "x" * 5000,
        lambda code: "not-a-token",
    ],
)
def test_an_altered_or_missing_code_is_refused(env: Env, mangle: Any) -> None:
    _, token = env.register()
    code = code_of(env.link(token))
    response = env.client.get("/portal/enter", params={"code": mangle(code)}, follow_redirects=False)
    assert response.status_code == 400 and "not valid" in response.text
    assert "Your choice" not in env.home()


def test_an_expired_link_is_refused(env: Env) -> None:
    subject_id, _ = env.register()
    sealer = portal_state_of(env).link_sealer
    from tradeoff.web.portal_link import issue_link

    old = issue_link(
        sealer, tenant_id=env.acme_id, subject_id=subject_id, now=datetime.now(UTC) - LINK_TTL - timedelta(seconds=5)
    )
    response = env.client.get(old.url, follow_redirects=False)
    assert response.status_code == 400 and "expired" in response.text


def test_a_link_sealed_with_another_secret_is_refused(env: Env) -> None:
    from tradeoff.web.portal_link import issue_link
    from tradeoff.web.portal_tokens import LINK_PURPOSE, SESSION_PURPOSE, Sealer

    subject_id, _ = env.register()
    forged = issue_link(
        Sealer("another secret", LINK_PURPOSE), tenant_id=env.acme_id, subject_id=subject_id, now=datetime.now(UTC)
    )
    assert env.client.get(forged.url, follow_redirects=False).status_code == 400
    # a session cookie is no link either (its key is derived for another purpose)
    cookie = portal_state_of(env).session_sealer.seal(
        {"t": env.acme_id, "s": subject_id, "n": "x"}, now=datetime.now(UTC)
    )
    assert env.client.get("/portal/enter", params={"code": cookie}, follow_redirects=False).status_code == 400
    assert (
        Sealer("s", SESSION_PURPOSE).unseal(
            Sealer("s", LINK_PURPOSE).seal({"a": 1}, now=datetime.now(UTC)), max_age=LINK_TTL, now=datetime.now(UTC)
        )
        is None
    )


def portal_state_of(env: Env) -> Any:
    class _Request:
        app = env.client.app

    return portal_state(_Request())  # type: ignore[arg-type]


def test_the_portal_link_endpoint_needs_an_app_token(env: Env) -> None:
    assert env.client.post("/v1/me/portal-link").status_code == 401
    headers = {"Authorization": f"Bearer {env.keys['acme:admin']}"}
    assert env.client.post("/v1/me/portal-link", headers=headers).status_code == 401


def test_signing_in_by_pasting_the_app_token(env: Env) -> None:
    _, token = env.register(tier=1)
    start = env.client.get("/portal")
    assert start.status_code == 200 and 'name="app_token"' in start.text
    assert "content-security-policy" in start.headers and start.headers["cache-control"] == "no-store"
    csrf = csrf_of(start.text)

    wrong = env.client.post("/portal/sign-in", data={"app_token": "ta_nope_nope", "csrf_token": csrf})
    assert wrong.status_code == 401 and "not valid" in wrong.text
    csrf = csrf_of(wrong.text)
    no_csrf = env.client.post("/portal/sign-in", data={"app_token": token}, follow_redirects=False)
    assert no_csrf.status_code == 403

    csrf = csrf_of(env.client.get("/portal").text)
    ok = env.client.post("/portal/sign-in", data={"app_token": token, "csrf_token": csrf}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/portal"
    assert tier_of(env.home()) == 1


def test_portal_pages_have_no_merchant_layout_and_strict_headers(env: Env) -> None:
    _, token = env.register()
    env.enter(token)
    response = env.client.get("/portal")
    assert 'aria-label="Main"' not in response.text and "/logout" not in response.text
    assert "/static/portal.css" in response.text and "<script" not in response.text and "style=" not in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "tradeoff_session" not in response.headers.get("set-cookie", "")  # the dashboard session is not touched
    assert env.client.get("/static/portal.css").status_code == 200


def test_signed_out_pages_go_to_the_sign_in_page(env: Env) -> None:
    for path in ("/portal/export", "/portal/export.json", "/portal/erase"):
        response = env.client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/portal"
    response = env.client.post("/portal/consent", data={"tier": "0"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/portal"


def test_sign_out_ends_the_portal_session(env: Env) -> None:
    _, token = env.register()
    env.enter(token)
    csrf = csrf_of(env.home())
    response = env.client.post("/portal/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert "Your choice" not in env.home()


def test_a_merchant_login_does_not_open_the_portal(env: Env) -> None:
    login_page = env.client.get("/login")
    csrf = csrf_of(login_page.text)
    env.client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf, "next": "/"})
    assert "Your choice" not in env.home()


# --- consent ------------------------------------------------------------------------------------------


def change(env: Env, tier: str, *, csrf: str | None = None, policy: str = POLICY_VERSION, **headers: str) -> Any:
    token = csrf if csrf is not None else csrf_of(env.home())
    data = {"tier": tier, "policy_version": policy, "csrf_token": token}
    return env.client.post("/portal/consent", data=data, headers=headers, follow_redirects=False)


def test_changing_the_tier(env: Env) -> None:
    _, token = env.register(tier=None)
    env.enter(token)
    page = env.home()
    assert tier_of(page) == 0 and "never given" in page
    response = change(env, "3")
    assert response.status_code == 303 and response.headers["location"] == "/portal?done=consent"
    page = env.client.get(response.headers["location"]).text
    assert tier_of(page) == 3 and "Your choice is saved" in page
    assert f"policy {POLICY_VERSION}" in page and "renew by" in page
    consent = env.client.get("/v1/me/consent", headers={"Authorization": f"Bearer {token}"}).json()
    record = consent["purposes"]["purchase_linking"]["record"]
    assert consent["tier"] == 3 and record["source"] == "web" and record["policy_version"] == POLICY_VERSION

    change(env, "1")
    assert tier_of(env.home()) == 1


def test_a_consent_change_without_csrf_changes_nothing(env: Env) -> None:
    _, token = env.register(tier=2)
    env.enter(token)
    assert change(env, "0", csrf="forged").status_code == 403
    assert tier_of(env.home()) == 2


@pytest.mark.parametrize(("tier", "policy"), [("7", POLICY_VERSION), ("x", POLICY_VERSION), ("0", "an-older-text")])
def test_a_forged_or_outdated_consent_form_changes_nothing(env: Env, tier: str, policy: str) -> None:
    _, token = env.register(tier=2)
    env.enter(token)
    response = change(env, tier, policy=policy)
    assert response.status_code == 303 and response.headers["location"] == "/portal"
    assert tier_of(env.home()) == 2


def test_global_privacy_control_from_the_browser_is_honoured(env: Env) -> None:
    _, token = env.register(tier=3)
    env.enter(token)
    page = env.home(**{"Sec-GPC": "1"})
    assert tier_of(page) == 2 and 'data-gpc="on"' in page  # purchase linking withdrawn on arrival
    response = change(env, "3", **{"Sec-GPC": "1"})
    assert response.headers["location"] == "/portal?done=gpc_conflict"
    page = env.home(**{"Sec-GPC": "1"})
    assert tier_of(page) == 2 and "Global Privacy Control" in page
    change(env, "3")  # an explicit choice without the signal is honoured
    assert tier_of(env.home()) == 3


# --- what is held, export, erasure --------------------------------------------------------------------


def audit_actions(env: Env, subject_id: str) -> list[str]:
    from tradeoff.privacy.audit import entries_for_subject

    keys = privacy_of(env.platform).keys
    with env.platform.engine.connect() as conn:
        return [e.action for e in entries_for_subject(conn, keys=keys, tenant_id=env.acme_id, subject_id=subject_id)]


def test_the_home_page_shows_what_is_held_by_counts(env: Env) -> None:
    subject_id, token = env.register(tier=2)
    env.send(token, 3)
    env.enter(token)
    page = env.home()
    assert re.search(r'data-testid="held-events"><span>[^<]+</span><span class="count">3</span>', page)
    assert re.search(r'data-testid="held-consent_records"><span>[^<]+</span><span class="count">3</span>', page)
    assert 'data-held="some"' in page
    assert "dsr.export" not in audit_actions(env, subject_id)  # counts only: not an export


def test_the_export_page_and_the_download(env: Env) -> None:
    subject_id, token = env.register(tier=2)
    env.send(token, 2)
    env.enter(token)
    page = env.client.get("/portal/export")
    assert page.status_code == 200 and 'data-testid="rows-events"' in page.text and "presence.sighting" in page.text
    download = env.client.get("/portal/export.json")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="my-data.json"'
    doc = download.json()
    assert doc["format"] == "tradeoff-dsr/1" and doc["subject_id"] == subject_id and doc["tenant_id"] == env.acme_id
    assert len(doc["events"]) == 2 and len(doc["tables"]["consent_records"]) == 3
    assert audit_actions(env, subject_id).count("dsr.export") == 2  # the page and the download


def test_erasure_needs_the_confirmation_and_the_csrf_token(env: Env) -> None:
    _, token = env.register(tier=2)
    env.send(token, 1)
    env.enter(token)
    confirm = env.client.get("/portal/erase")
    assert confirm.status_code == 200 and 'name="confirm"' in confirm.text
    csrf = csrf_of(confirm.text)
    unconfirmed = env.client.post("/portal/erase", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    forged = env.client.post("/portal/erase", data={"csrf_token": "forged", "confirm": "yes"})
    assert forged.status_code == 403
    assert 'data-held="some"' in env.home() and env.client.get("/portal/export.json").status_code == 200


def test_after_erasure_nothing_is_held_and_the_export_is_empty(env: Env) -> None:
    subject_id, token = env.register(tier=2)
    env.send(token, 3)
    other_subject, other_token = env.register(tier=2)
    env.send(other_token, 2)
    env.enter(token)
    csrf = csrf_of(env.client.get("/portal/erase").text)
    response = env.client.post("/portal/erase", data={"csrf_token": csrf, "confirm": "yes"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/portal?done=erased"

    page = env.client.get("/portal?done=erased").text
    assert "Everything we held about you is erased" in page and 'data-held="none"' in page
    assert "Nothing is held about you" in page and 'action="/portal/consent"' not in page
    export_page = env.client.get("/portal/export").text
    assert 'data-testid="export-empty"' in export_page and "rows-" not in export_page
    gone = env.client.get("/portal/export.json")
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "erased"
    assert "content-disposition" not in gone.headers
    assert env.client.get("/portal/erase", follow_redirects=False).headers["location"] == "/portal"
    assert change(env, "3").headers["location"] == "/portal"  # no consent for an erased subject

    app = {"Authorization": f"Bearer {token}"}
    assert env.client.get("/v1/me", headers=app).status_code == 410
    assert env.client.post("/v1/me/portal-link", headers=app).status_code == 410
    admin = {"Authorization": f"Bearer {env.keys['acme:admin']}"}
    stored = env.client.get("/v1/events", headers=admin, params={"limit": 1000}).json()["events"]
    assert len(stored) == 2  # only the other shopper's events are left
    assert "dsr.erase" in audit_actions(env, subject_id) and "dsr.erase" not in audit_actions(env, other_subject)


def test_an_erased_subjects_token_or_old_link_shows_nothing(env: Env) -> None:
    _, token = env.register(tier=2)
    unused_link = env.link(token)
    env.enter(token)
    csrf = csrf_of(env.client.get("/portal/erase").text)
    env.client.post("/portal/erase", data={"csrf_token": csrf, "confirm": "yes"})
    env.client.cookies.clear()
    assert env.client.get(unused_link, follow_redirects=False).status_code == 400
    csrf = csrf_of(env.client.get("/portal").text)
    pasted = env.client.post("/portal/sign-in", data={"app_token": token, "csrf_token": csrf})
    assert pasted.status_code == 410 and "Nothing is held about you" in pasted.text


@pytest.mark.postgres
def test_the_portal_and_the_privacy_page_run_on_the_row_level_security_role(tmp_path: Path) -> None:
    """Link, consent, export, erasure and the privacy page through the tenant-bound application role."""
    import uuid

    import psycopg

    from tests.support.services import PG_ADMIN_URL, postgres_database

    def admin_sql(statement: str) -> None:
        with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute(statement)

    role = f"tradeoff_app_{uuid.uuid4().hex[:8]}"
    admin_sql(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
    try:
        with postgres_database() as url, make_env(tmp_path, url, app_role=role) as pg:
            subject_id, token = pg.register(tier=1)
            pg.send(token, 2)
            pg.enter(token)
            assert re.search(r'data-testid="held-events"><span>[^<]+</span><span class="count">2</span>', pg.home())
            assert change(pg, "2").headers["location"] == "/portal?done=consent"
            assert tier_of(pg.home()) == 2
            assert len(pg.client.get("/portal/export.json").json()["events"]) == 2
            csrf = csrf_of(pg.client.get("/portal/erase").text)
            pg.client.post("/portal/erase", data={"csrf_token": csrf, "confirm": "yes"})
            assert pg.client.get("/portal/export.json").status_code == 410
            pg.client.cookies.clear()
            login_form = csrf_of(pg.client.get("/login").text)
            form = {"username": "alice", "password": PASSWORD, "csrf_token": login_form, "next": "/"}
            pg.client.post("/login", data=form)
            page = pg.client.get("/privacy")
            assert page.status_code == 200 and 'data-action="dsr.erase"' in page.text and subject_id not in page.text
    finally:
        admin_sql(f"DROP ROLE IF EXISTS {role}")
