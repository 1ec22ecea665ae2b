"""Headless Chromium on a phone-sized screen opens the wallet from the app's one-time link: the offer is
listed with its QR code (rendered) and typed code, and tapping it shows the large QR for the till."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.e2e.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium
from tests.support.services import free_port
from tests.unit.offers.delivery.world import World, make_world

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[World, str]]:
    _need_chromium()
    with make_world(tmp_path) as world:
        config = uvicorn.Config(world.client.app, host="127.0.0.1", port=free_port(), log_config=None, access_log=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="wallet-e2e", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        try:
            yield world, f"http://127.0.0.1:{config.port}"
        finally:
            server.should_exit = True
            thread.join(timeout=30)


def test_the_wallet_shows_a_scannable_offer_on_a_phone(served: tuple[World, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    world, base = served
    subject_id, app = world.shopper()
    coupon_id = world.issue(subject_id)
    code = world.client.get(f"/v1/me/offers/{coupon_id}", headers=app).json()["code"]
    link = world.client.post("/v1/me/wallet-link", headers=app).json()["url"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(base + link)
            expect(page).to_have_url(f"{base}/portal/wallet")
            offer = page.locator(f'li[data-coupon="{coupon_id}"]')
            expect(offer.locator('[data-testid="code"]')).to_have_text(code)
            qr = offer.locator("img.qr")
            expect(qr).to_be_visible()
            assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
            offer.locator("a").click()
            expect(page).to_have_url(f"{base}/portal/wallet/{coupon_id}")
            big = page.locator("img.qr-large")
            expect(big).to_be_visible()
            box = big.bounding_box()
            assert box is not None and box["width"] >= 250
            expect(page.locator('[data-testid="code"]')).to_have_text(code)
            assert errors == []
        finally:
            browser.close()
