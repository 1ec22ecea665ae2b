"""Headless Chromium: the campaign editor shows only the fields of the chosen trigger, creates a campaign,
and the live map refreshes a zone's count by itself (small counts as "< k")."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine, insert, update

from tests.e2e.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, _need_chromium
from tests.support.services import free_port
from tests.unit.web.test_offers_pages import NOW, PLAN, offers_app
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_user
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.settings import Settings
from tradeoff.presence.setup import service as setup_service
from tradeoff.presence.store import presence_zone_occupancy
from tradeoff.web import offers_pages

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "campaign-editor-e2e-password"


@dataclass
class Served:
    base: str
    site: str
    tenant: str
    engine: Engine


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    _need_chromium()
    monkeypatch.setattr(offers_pages, "LIVE_POLL_SECONDS", 1)
    url = f"sqlite:///{tmp_path / 'tradeoff.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="acme", name="Acme")
        site = tenancy.create_site(conn, tenant_id=tenant.id, name="Main Street")
        setup_service.save_floor_plan(conn, tenant_id=tenant.id, site_id=site.id, plan=PLAN)
        create_user(conn, tenant_id=tenant.id, username="alice", password=PASSWORD, role=Role.ADMIN)
        conn.execute(
            insert(presence_zone_occupancy).values(tenant_id=tenant.id, zone="bakery", occupants=12, updated_at=NOW)
        )
    settings = Settings(database_url=url, var_dir=tmp_path, keyring_path=tmp_path / "k.json", run_processors=False)
    app, platform = offers_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None, access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="campaign-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{config.port}", site.id, tenant.id, engine)
    finally:
        uv.should_exit = True
        thread.join(timeout=30)
        platform.close()
        engine.dispose()


def test_create_a_campaign_and_watch_the_live_map(server: Served) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(f"{server.base}/campaigns/new")
            page.fill("#username", "alice")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page).to_have_url(f"{server.base}/campaigns/new")

            dwell = page.locator("#f-trigger-dwell_s")
            expect(dwell).to_be_hidden()  # enter store: no zone, no dwell
            page.select_option("#f-trigger-kind", "dwell")
            expect(dwell).to_be_visible()
            page.fill("#f-name", "Croissant hour")
            page.fill("#f-trigger-zone", "bakery")
            page.fill("#f-trigger-dwell_s", "60")
            page.fill("#f-offer-title", "20 % off pastries")
            page.fill("#f-offer-percent_off", "20")
            page.click("[data-testid=save]")
            expect(page.locator("h1")).to_have_text("Croissant hour")
            expect(page.locator("[data-testid=count-issued]")).to_have_text("< 10")

            page.goto(f"{server.base}/stores/{server.site}/live")
            bakery = page.locator('#live-svg [data-count-for="bakery"]')
            expect(bakery).to_have_text("12")
            with server.engine.begin() as conn:
                o = presence_zone_occupancy.c
                conn.execute(update(presence_zone_occupancy).where(o.zone == "bakery").values(occupants=4))
            expect(bakery).to_have_text("< 10", timeout=10_000)  # the poll, no reload
            expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
            assert errors == []
        finally:
            browser.close()
