"""Offer pages: the campaign editor (create, edit, errors next to fields), the funnel with small counts
suppressed at the release guard's k, the live map, and another tenant's ids answering 404/403."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, update

from tradeoff.offers import service
from tradeoff.offers.campaigns import CampaignSpec
from tradeoff.offers.delivery.store import offer_receipts
from tradeoff.offers.store import offer_campaign_counters, offer_coupons, offer_decisions
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_user
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings
from tradeoff.presence.setup import service as setup_service
from tradeoff.presence.store import presence_zone_occupancy
from tradeoff.privacy.capability import privacy_of
from tradeoff.privacy.release import ReleaseConfig
from tradeoff.web import dashboard, offers_pages

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
PLAN = {
    "width_m": 20,
    "height_m": 10,
    "origin": "bottom-left",
    "zones": [
        {"name": "bakery", "label": "Bakery", "polygon": [[0, 0], [10, 0], [10, 10], [0, 10]]},
        {"name": "dairy", "label": "Dairy", "polygon": [[10, 0], [20, 0], [20, 10], [10, 10]]},
    ],
}


def spec(**changes: Any) -> CampaignSpec:
    data: dict[str, Any] = {
        "name": "Croissant hour",
        "trigger": {"kind": "dwell", "zone": "bakery", "dwell_s": 60},
        "offer": {"kind": "percent", "title": "20 % off pastries", "percent_off": 20},
        "starts_at": NOW.isoformat(),
        "ends_at": (NOW + timedelta(days=30)).isoformat(),
        "holdout": 0.1,
    }
    return CampaignSpec.model_validate(data | changes)


def offers_app(settings: Settings) -> tuple[FastAPI, Platform]:
    """The served app with the offer pages wired in (as the dashboard's ``PAGES`` will do)."""
    platform = build_platform(settings)
    extensions = [dashboard.install_dashboard]
    if offers_pages.install not in dashboard.PAGES:
        extensions.append(offers_pages.install)
    return create_app(settings, platform=platform, extensions=extensions), platform


@dataclass
class Seed:
    client: TestClient
    engine: Engine
    tenant: str
    site: str
    campaign: str
    other_site: str
    other_campaign: str


@pytest.fixture
def seed(tmp_path: Path) -> Iterator[Seed]:
    url = f"sqlite:///{tmp_path / 't.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        acme = tenancy.create_tenant(conn, slug="acme", name="Acme Stores")
        other = tenancy.create_tenant(conn, slug="other", name="Other")
        site = tenancy.create_site(conn, tenant_id=acme.id, name="Main Street")
        other_site = tenancy.create_site(conn, tenant_id=other.id, name="Secret Store")
        setup_service.save_floor_plan(conn, tenant_id=acme.id, site_id=site.id, plan=PLAN)
        campaign = service.create_campaign(conn, tenant_id=acme.id, spec=spec(), now=NOW)
        secret = service.create_campaign(conn, tenant_id=other.id, spec=spec(name="Secret campaign"), now=NOW)
        create_user(conn, tenant_id=acme.id, username="alice", password=PASSWORD, role=Role.STAFF)
    settings = Settings(database_url=url, var_dir=tmp_path, keyring_path=tmp_path / "k.json", run_processors=False)
    app, platform = offers_app(settings)
    try:
        with TestClient(app) as client:
            token = CSRF_RE.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
            form = {"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "/"}
            assert client.post("/login", data=form, follow_redirects=False).status_code == 303
            yield Seed(client, engine, acme.id, site.id, campaign.id, other_site.id, secret.id)
    finally:
        platform.close()
        engine.dispose()


def csrf(seed: Seed) -> str:
    return CSRF_RE.search(seed.client.get("/campaigns/new").text).group(1)  # type: ignore[union-attr]


def editor_form(seed: Seed, **changes: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf(seed),
        "name": "Milk run",
        "status": "active",
        "priority": "5",
        "trigger.kind": "enter_zone",
        "trigger.zone": "dairy",
        "trigger.dwell_s": "999",  # not a dwell trigger: ignored, not an error
        "audience.min_tier": "3",
        "offer.kind": "amount",
        "offer.title": "1 € off milk",
        "offer.amount_off_minor": "100",
        "offer.currency": "eur",
        "offer.scope": "categories",
        "offer.categories": "milk, yoghurt",
        "offer.min_basket_minor": "500",
        "timezone": "Europe/Paris",
        "starts_at": "2026-12-01T08:00",
        "ends_at": "2026-12-31T20:00",
        "coupon_valid_hours": "48",
        "budget.max_issued": "1000",
        "budget.max_redemptions": "400",
        "caps.per_day": "1",
        "caps.per_week": "2",
        "caps.per_campaign": "4",
        "quiet_hours": "21:00-07:00, 12:00-13:00",
        "holdout": "0.2",
    }
    return form | changes


def test_editor_creates_a_campaign_with_every_field(seed: Seed) -> None:
    response = seed.client.post("/campaigns/new", data=editor_form(seed), follow_redirects=False)
    assert response.status_code == 303
    campaign_id = response.headers["location"].rsplit("/", 1)[1]
    with seed.engine.connect() as conn:
        saved = service.get_campaign(conn, tenant_id=seed.tenant, campaign_id=campaign_id).spec
    assert saved.trigger.model_dump() == {"kind": "enter_zone", "zone": "dairy", "dwell_s": None, "beacon": None}
    assert (saved.audience.min_tier, saved.offer.amount_off_minor, saved.offer.currency) == (3, 100, "EUR")
    assert saved.offer.categories == ("milk", "yoghurt") and saved.offer.min_basket_minor == 500
    assert saved.starts_at == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 08:00 in Paris
    assert (saved.budget.max_issued, saved.budget.max_redemptions) == (1000, 400)
    assert (saved.caps.per_day, saved.caps.per_week, saved.caps.per_campaign) == (1, 2, 4)
    assert [(q.start, q.end) for q in saved.quiet_hours] == [("21:00", "07:00"), ("12:00", "13:00")]
    assert (saved.holdout, saved.priority, saved.status, saved.coupon_valid_hours) == (0.2, 5, "active", 48)
    listing = seed.client.get("/campaigns").text
    assert "Milk run" in listing and "Croissant hour" in listing and "Secret campaign" not in listing


def test_edit_form_shows_stored_values_and_saves_changes(seed: Seed) -> None:
    page = seed.client.get(f"/campaigns/{seed.campaign}/edit").text
    assert 'value="Croissant hour"' in page and 'value="bakery"' in page and 'value="60"' in page
    assert '<option value="dwell" selected>' in page and 'value="2026-11-29T09:00"' in page
    form = editor_form(seed, **{"trigger.kind": "dwell", "trigger.zone": "bakery", "trigger.dwell_s": "60"})
    form |= {"name": "Croissant hour", "offer.kind": "percent", "offer.percent_off": "20", "offer.scope": "basket"}
    form |= {"offer.title": "20 % off pastries", "audience.min_tier": "2", "holdout": "0.1", "status": "paused"}
    response = seed.client.post(f"/campaigns/{seed.campaign}/edit", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/campaigns/{seed.campaign}"
    with seed.engine.connect() as conn:
        saved = service.get_campaign(conn, tenant_id=seed.tenant, campaign_id=seed.campaign).spec
    assert saved.status == "paused" and saved.caps.per_week == 2 and saved.timezone == "Europe/Paris"


def test_validation_errors_are_shown_next_to_fields_and_values_kept(seed: Seed) -> None:
    form = editor_form(seed, **{"caps.per_day": "3", "holdout": "0.9", "trigger.zone": "", "name": "Kept name"})
    form |= {"priority": "lots", "timezone": "Mars/Olympus"}
    response = seed.client.post("/campaigns/new", data=form)
    assert response.status_code == 422
    page = response.text
    errors = dict(re.findall(r'data-error-for="([^"]+)">([^<]+)<', page))
    assert "per_day (3) cannot exceed per_week (2)" in errors["caps"]
    assert "0.5" in errors["holdout"]
    assert "needs a zone" in errors["trigger"]
    assert "integer" in errors["priority"]
    assert "IANA" in errors["timezone"]
    assert 'value="Kept name"' in page and 'value="21:00-07:00, 12:00-13:00"' in page
    with seed.engine.connect() as conn:
        assert len(service.list_campaigns(conn, tenant_id=seed.tenant)) == 1  # nothing saved


def test_rules_across_fields_are_shown_once_the_fields_are_valid(seed: Seed) -> None:
    response = seed.client.post("/campaigns/new", data=editor_form(seed, ends_at="2026-11-30T08:00"))
    assert response.status_code == 422
    assert 'data-error-for="ends_at">ends_at must be after starts_at<' in response.text
    response = seed.client.post("/campaigns/new", data=editor_form(seed, starts_at="soon"))
    assert 'data-error-for="starts_at">' in response.text and 'value="soon"' in response.text


def test_fixed_fields_of_a_used_campaign_are_refused_next_to_the_field(seed: Seed) -> None:
    add_decisions(seed, issued=1, held_out=0)
    form = editor_form(seed)  # another trigger, offer, audience and holdout
    response = seed.client.post(f"/campaigns/{seed.campaign}/edit", data=form)
    assert response.status_code == 409
    assert 'data-error-for="trigger"' in response.text and "create a new one" in response.text


def test_forms_need_the_csrf_token(seed: Seed) -> None:
    response = seed.client.post("/campaigns/new", data=editor_form(seed, csrf_token="forged"))
    assert response.status_code == 403
    with seed.engine.connect() as conn:
        assert len(service.list_campaigns(conn, tenant_id=seed.tenant)) == 1


def add_decisions(
    seed: Seed, *, issued: int, held_out: int, delivered: int = 0, opened: int = 0, redeemed: int = 0
) -> None:
    """Ledger rows as the processor and the delivery would write them, one shopper each, plus the counters."""
    with seed.engine.begin() as conn:
        for n in range(issued + held_out):
            outcome = "issue" if n < issued else "holdout"
            coupon = f"c{n:04d}" if outcome == "issue" else None
            conn.execute(insert(offer_decisions).values(
                tenant_id=seed.tenant, campaign_id=seed.campaign, pseudonym=f"ps_{n}", occasion=f"visit:{n}",
                trigger_event_id=f"e{n}", outcome=outcome, coupon_id=coupon, decided_at=NOW))  # fmt: skip
            if coupon is None:
                continue
            conn.execute(insert(offer_coupons).values(
                id=coupon, tenant_id=seed.tenant, campaign_id=seed.campaign, pseudonym=f"ps_{n}", serial=n,
                status="redeemed" if n < redeemed else "issued", issued_at=NOW, expires_at=NOW + timedelta(days=7),
                version=1, updated_at=NOW))  # fmt: skip
            if n < delivered:
                conn.execute(insert(offer_receipts).values(
                    coupon_id=coupon, tenant_id=seed.tenant, campaign_id=seed.campaign, pseudonym=f"ps_{n}",
                    delivered_at=NOW, delivered_via="pull", displayed_at=NOW if n < opened else None,
                    opened_at=NOW if n < opened else None, created_at=NOW))  # fmt: skip
        c = offer_campaign_counters.c
        skipped = {"quiet_hours": 3, "cap_day": 40}
        conn.execute(update(offer_campaign_counters).where(c.campaign_id == seed.campaign).values(
            issued=issued, held_out=held_out, redeemed=redeemed, skipped=skipped))  # fmt: skip


def test_funnel_shows_counts_rates_and_suppresses_small_groups(seed: Seed) -> None:
    add_decisions(seed, issued=40, held_out=4, delivered=30, opened=12, redeemed=6)
    page = seed.client.get(f"/campaigns/{seed.campaign}").text
    counts = dict(re.findall(r'data-testid="count-(\w+)">([^<]+)<', page))
    assert counts == {"issued": "40", "delivered": "30", "displayed": "12", "opened": "12", "redeemed": "&lt; 10"}
    assert "75.0 %" in page  # delivered / issued
    assert 'data-testid="held-out">&lt; 10<' in page  # 4 shoppers held out
    assert 'data-testid="redemption-rate">—<' in page  # redeemed is suppressed, so its rate is too
    assert "POS attribution" in page and 'data-testid="lift">not measurable yet' in page
    assert '<code>quiet_hours</code></td><td class="num">&lt; 10' in page and ">40<" in page
    listing = seed.client.get("/campaigns").text
    assert 'data-step="issued">40<' in listing and 'data-step="redeemed">&lt; 10<' in listing


def test_a_count_made_by_few_shoppers_is_suppressed_however_large(seed: Seed) -> None:
    add_decisions(seed, issued=3, held_out=0)
    with seed.engine.begin() as conn:  # counters say 25 issues, but only 3 shoppers stand behind them
        c = offer_campaign_counters.c
        conn.execute(update(offer_campaign_counters).where(c.campaign_id == seed.campaign).values(issued=25))
    page = seed.client.get(f"/campaigns/{seed.campaign}").text
    assert 'data-testid="count-issued">&lt; 10<' in page


def test_k_comes_from_the_release_guard(seed: Seed) -> None:
    add_decisions(seed, issued=40, held_out=4, delivered=30, opened=12, redeemed=6)
    guard = privacy_of(seed.client.app.state.platform).release_guard  # type: ignore[attr-defined]
    guard.config = ReleaseConfig(min_group_size=5)
    page = seed.client.get(f"/campaigns/{seed.campaign}").text
    assert 'data-testid="count-redeemed">6<' in page and 'data-testid="held-out">&lt; 5<' in page


def test_another_tenants_campaign_and_site_are_not_found(seed: Seed) -> None:
    for path in (f"/campaigns/{seed.other_campaign}", f"/campaigns/{seed.other_campaign}/edit"):
        response = seed.client.get(path)
        assert response.status_code == 404 and "Secret campaign" not in response.text
    form = editor_form(seed)
    response = seed.client.post(f"/campaigns/{seed.other_campaign}/edit", data=form)
    assert response.status_code == 404
    with seed.engine.connect() as conn:
        other = service.list_campaigns(conn, tenant_id="x")  # nothing leaks by id either
    assert other == []
    assert seed.client.get(f"/stores/{seed.other_site}/live").status_code in (403, 404)
    assert seed.client.get(f"/stores/{seed.other_site}/live.json").status_code in (403, 404)


def test_live_map_shows_occupancy_with_small_counts_suppressed(seed: Seed) -> None:
    with seed.engine.begin() as conn:
        for zone, occupants in (("bakery", 14), ("dairy", 3), ("elsewhere", 50)):
            conn.execute(insert(presence_zone_occupancy).values(
                tenant_id=seed.tenant, zone=zone, occupants=occupants, updated_at=NOW))  # fmt: skip
    page = seed.client.get(f"/stores/{seed.site}/live")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert 'data-count-for="bakery">14<' in page.text and 'data-count-for="dairy">&lt; 10<' in page.text
    assert 'data-poll="/stores/' in page.text and "style=" not in page.text
    live = seed.client.get(f"/stores/{seed.site}/live.json").json()
    assert live["k"] == 10 and live["updated_at"] == NOW.isoformat()
    assert live["zones"] == [
        {"zone": "bakery", "text": "14", "level": 1.0},
        {"zone": "dairy", "text": "< 10", "level": 0.0},
    ]
    index = seed.client.get("/live").text
    assert f'href="/stores/{seed.site}/live"' in index and "Secret Store" not in index


def test_pages_need_a_login_and_are_in_the_nav(seed: Seed) -> None:
    nav = seed.client.get("/campaigns").text
    assert 'href="/campaigns"' in nav and 'href="/live"' in nav
    seed.client.post("/logout", data={"csrf_token": csrf(seed)})
    response = seed.client.get("/campaigns", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
