"""Headless Chromium opens a dispatched plan: the route map renders under the page's CSP, the print button
prints, and print media hides the navigation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.e2e.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium
from tests.support.services import free_port
from tests.unit.web.test_dashboard import PASSWORD
from tests.unit.web.test_vending_pages import seed_plans, vending_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    _need_chromium()
    url, ids = seed_plans(tmp_path)
    port = free_port()
    config = uvicorn.Config(vending_app(url, tmp_path), host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="vending-pages", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", ids
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_plan_page_map_and_print(served: tuple[str, dict[str, str]]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, ids = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            page.goto(f"{base}/vending/plans/{ids['plan']}")
            page.fill("#username", "alice")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.get_by_test_id("route-map")).to_be_visible()
            assert page.locator("path.route").count() == 2
            box = page.locator("path.route").first.bounding_box()
            assert box is not None and box["width"] > 10  # drawn, not collapsed
            page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
            page.get_by_test_id("print").click()
            assert page.evaluate("window.__printed") == 1
            page.emulate_media(media="print")
            expect(page.locator(".topbar")).to_be_hidden()
            expect(page.get_by_test_id("print")).to_be_hidden()
            expect(page.get_by_test_id("truck-sheet").first).to_be_visible()
            assert problems == []  # no CSP violations, no script errors
        finally:
            browser.close()
