"""Headless Chromium logs into the real server's dashboard and sees a live event arrive."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import deploy
from tests.support.server import ServerProcess, cli
from tests.support.services import services_required

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "dashboard-e2e-password"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if services_required():
        pytest.fail(f"{CHROMIUM} not found (TRADEOFF_REQUIRE_SERVICES=1); install Debian's chromium")
    pytest.skip(f"{CHROMIUM} not found; install Debian's chromium (make chromium)")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A migrated, seeded server on a free port; yields (base URL, admin API key)."""
    _need_chromium()
    deployment = deploy(f"sqlite:///{tmp_path / 'tradeoff.db'}", tmp_path, TRADEOFF_MQTT_URL="")
    cli(deployment.env, "users", "create", "alice", "--tenant", "acme", "--role", "admin", "--password", PASSWORD)
    process = ServerProcess(deployment.env, tmp_path / "server.log")
    process.start()
    try:
        yield process.url, deployment.admin_key
    finally:
        process.stop()


def test_a_logged_in_user_sees_a_live_event_arrive(server: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, key = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{base}/events")
            expect(page).to_have_url(f"{base}/login?next=/events")
            page.fill("#username", "alice")
            page.fill("#password", "not the password")
            page.click("button[type=submit]")
            expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")

            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{base}/events")
            expect(page.get_by_test_id("whoami")).to_contain_text("alice")
            expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=10_000)

            event_id = f"e2e-{time.time_ns()}"
            batch = {
                "events": [
                    {
                        "event_id": event_id,
                        "type": "device.telemetry",
                        "occurred_at": datetime.now(UTC).isoformat(),
                        "source": "gw-e2e",
                        "payload": {"temp_c": 4.5},
                    }
                ]
            }
            response = httpx.post(
                f"{base}/v1/events", json=batch, headers={"Authorization": f"Bearer {key}"}, timeout=10
            )
            assert response.status_code == 200 and response.json()["accepted"] == 1, response.text

            row = page.locator(f'#events tbody tr[data-event-id="{event_id}"]')
            expect(row).to_be_visible(timeout=10_000)
            expect(row).to_contain_text("device.telemetry")
            expect(row).to_contain_text("gw-e2e")
            expect(row).to_contain_text('"temp_c":4.5')
            assert errors == []
        finally:
            browser.close()
