"""Headless Chromium in the shopper's privacy portal of a real server: a one-time link from the app, what is
held, a tier change, erasure (with its confirmation), then the export shows nothing; and the merchant's
privacy page lists the erasure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import deploy
from tests.support.server import ServerProcess, cli, cli_json
from tests.support.services import services_required

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "portal-e2e-password"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if services_required():
        pytest.fail(f"{CHROMIUM} not found (TRADEOFF_REQUIRE_SERVICES=1); install Debian's chromium")
    pytest.skip(f"{CHROMIUM} not found; install Debian's chromium (make chromium)")


@dataclass
class Served:
    url: str
    device_key: str


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    _need_chromium()
    deployment = deploy(
        f"sqlite:///{tmp_path / 'tradeoff.db'}",
        tmp_path,
        TRADEOFF_MQTT_URL="",
        TRADEOFF_KEYRING_PATH=str(tmp_path / "keys" / "keyring.json"),
    )
    env = deployment.env
    device_key = cli_json(env, "keys", "create", "--tenant", "acme", "--role", "device", "--name", "app")["secret"]
    cli(env, "users", "create", "alice", "--tenant", "acme", "--role", "admin", "--password", PASSWORD)
    process = ServerProcess(env, tmp_path / "server.log")
    process.start()
    try:
        yield Served(process.url, device_key)
    finally:
        process.stop()


def _shopper(server: Served, events: int) -> dict[str, str]:
    """Registered by the app backend with tier 1, then ``events`` sightings sent by the app itself."""
    body = {"consent": {"tier": 1, "policy_version": "2026-11", "source": "app"}}
    response = httpx.post(
        f"{server.url}/v1/me/register", json=body, headers={"Authorization": f"Bearer {server.device_key}"}
    )
    assert response.status_code == 201, response.text
    app = {"Authorization": f"Bearer {response.json()['app_token']}"}
    now = datetime.now(UTC).isoformat()
    batch = [
        {"event_id": f"e2e-{n}", "type": "presence.sighting", "occurred_at": now, "payload": {"zone": "bakery"}}
        for n in range(events)
    ]
    response = httpx.post(f"{server.url}/v1/me/events", json={"events": batch}, headers=app, timeout=10)
    assert response.status_code == 200 and response.json()["accepted"] == events, response.text
    return app


def test_the_shopper_sees_their_data_changes_the_tier_erases_and_then_nothing_is_held(
    server: Served, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    app = _shopper(server, events=3)
    link = httpx.post(f"{server.url}/v1/me/portal-link", headers=app)
    assert link.status_code == 200, link.text

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)  # a phone
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # The one-time link signs in and leaves the code out of the address bar.
            page.goto(server.url + link.json()["url"])
            expect(page).to_have_url(f"{server.url}/portal")
            held = page.get_by_test_id("held")
            expect(held).to_have_attribute("data-held", "some")
            expect(page.get_by_test_id("held-events")).to_contain_text("3")
            expect(page.get_by_test_id("tier")).to_have_attribute("data-tier", "1")
            expect(page.get_by_test_id("purpose-analytics")).to_have_attribute("data-granted", "yes")

            # Everything held, downloaded as JSON.
            with page.expect_download() as download_info:
                page.get_by_role("link", name="Download (JSON)").click()
            download = download_info.value
            assert download.suggested_filename == "my-data.json"
            saved = tmp_path / "export-before.json"
            download.save_as(saved)
            exported = json.loads(saved.read_text())
            assert exported["format"] == "tradeoff-dsr/1" and len(exported["events"]) == 3

            # Change the tier.
            page.get_by_label("2 · Personalized offers").check()
            page.get_by_test_id("save-tier").click()
            expect(page.get_by_test_id("notice")).to_contain_text("Your choice is saved")
            expect(page.get_by_test_id("tier")).to_have_attribute("data-tier", "2")
            expect(page.get_by_test_id("purpose-personalization")).to_have_attribute("data-granted", "yes")
            consent = httpx.get(f"{server.url}/v1/me/consent", headers=app).json()
            assert consent["tier"] == 2 and consent["purposes"]["personalization"]["record"]["source"] == "web"

            # Erase, with the confirmation step (the button refuses until the box is ticked).
            page.get_by_role("link", name="Erase my data…").click()
            expect(page).to_have_url(f"{server.url}/portal/erase")
            page.get_by_label("I understand that my data is erased for good.").check()
            page.get_by_test_id("confirm-erase").click()
            expect(page.get_by_test_id("notice")).to_contain_text("Everything we held about you is erased")
            expect(page.get_by_test_id("held")).to_have_attribute("data-held", "none")
            expect(page.get_by_test_id("held")).to_contain_text("Nothing is held about you")

            # The export now shows nothing, and the JSON export answers 410 "erased".
            page.goto(f"{server.url}/portal/export")
            expect(page.get_by_test_id("export-empty")).to_contain_text("Nothing is held about you")
            response = page.request.get(f"{server.url}/portal/export.json")
            assert response.status == 410 and response.json()["error"]["code"] == "erased"
            assert httpx.get(f"{server.url}/v1/me", headers=app).status_code == 410

            # The merchant's privacy page lists the erasure, naming nobody.
            page.goto(f"{server.url}/privacy")
            page.fill("#username", "alice")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{server.url}/privacy")
            log = page.get_by_test_id("dsr-log")
            expect(log.locator('tr[data-action="dsr.erase"]')).to_have_count(1)
            expect(log.locator('tr[data-action="dsr.export"]')).to_have_count(1)
            expect(page.get_by_test_id("budget-spent")).to_contain_text("0.10")
            assert exported["subject_id"] not in page.content()
            assert errors == []
        finally:
            browser.close()
