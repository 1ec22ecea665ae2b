"""Headless Chromium sets a store up: draws a zone by clicking on the plan, picks a beacon's position on
it, and sees the beacon listed in that zone, then drags it (saved through the API)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.e2e.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium
from tests.support.services import free_port
from tests.unit.web.test_store_setup import store_setup_app
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_user
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "store-setup-e2e-password"
UUID = "426c7565-4368-6172-6d42-6561636f6e73"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The served app with store setup, on a free port in this process; yields (base URL, site id)."""
    _need_chromium()
    url = f"sqlite:///{tmp_path / 'tradeoff.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="acme", name="Acme")
        plan = {"width_m": 20, "height_m": 10, "zones": []}
        site = tenancy.create_site(conn, tenant_id=tenant.id, name="Main Street", floor_plan=plan)
        create_user(conn, tenant_id=tenant.id, username="alice", password=PASSWORD, role=Role.ADMIN)
    engine.dispose()
    settings = Settings(database_url=url, var_dir=tmp_path, keyring_path=tmp_path / "k.json", run_processors=False)
    app, platform = store_setup_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None, access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="store-setup-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}", site.id
    finally:
        uv.should_exit = True
        thread.join(timeout=30)
        platform.close()


def test_draw_a_zone_place_a_beacon_and_see_it_listed(server: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, site_id = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base}/stores")
            page.fill("#username", "alice")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.click(f'#stores tr[data-site="{site_id}"] a')
            expect(page).to_have_url(f"{base}/stores/{site_id}")

            plan = page.locator("#plan-svg")
            box = plan.bounding_box()
            assert box is not None

            def at(x_m: float, y_m: float) -> dict[str, float]:  # plan metres → a click position on the SVG
                return {"x": box["width"] * x_m / 20, "y": box["height"] * (10 - y_m) / 10}

            page.click("button[data-mode=zone]")
            for corner in ((1, 1), (9, 1), (9, 9), (1, 9)):
                plan.click(position=at(*corner))
            expect(page.locator("#zone-points")).to_have_value("1,1 9,1 9,9 1,9")
            page.fill("#zone-name", "dairy")
            page.fill("#zone-label", "Dairy")
            page.click("#zone-form button[type=submit]")
            expect(page.locator('#zones-table tr[data-zone="dairy"]')).to_contain_text("Dairy")
            expect(page.locator('#plan-svg g.zone[data-zone="dairy"]')).to_have_count(1)

            page.click("button[data-mode=beacon]")
            plan.click(position=at(5, 5))
            expect(page.locator("#beacon-x")).to_have_value("5")
            page.fill("#beacon-identity", f"{UUID} 3838 4949")
            page.fill("#beacon-label", "Milk shelf")
            page.fill("#beacon-skus", "milk-1l")
            page.click("#beacon-form button[type=submit]")
            row = page.locator("#beacons-table tbody tr[data-beacon]")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("Milk shelf")
            expect(row).to_contain_text("dairy")
            expect(row).to_contain_text("never")
            expect(row).to_contain_text("milk-1l")

            # Drag the beacon out of the zone: saved through the API, the page reloads with the new zone.
            marker = page.locator('#plan-svg g[data-drag="beacon"] circle')
            marker.scroll_into_view_if_needed()
            marker.hover()
            page.mouse.down()
            box = plan.bounding_box()  # after the reload and scroll: where the plan is on screen now
            assert box is not None
            target = at(15, 5)
            page.mouse.move(box["x"] + target["x"], box["y"] + target["y"], steps=5)
            page.mouse.up()
            expect(row).to_contain_text("at 15.0, 5.0 m", timeout=10_000)
            expect(row.locator("td").nth(1)).to_have_text("—")
            assert errors == []
        finally:
            browser.close()
