"""The wallet's interests form: the store's segments as checkboxes (no JavaScript), saved with the portal
session's CSRF token, refused without personalization consent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.offers.delivery.world import World, make_world

CATALOGUE = {"segments": [{"key": "organic", "label": "Organic food"}, {"key": "vegan", "label": "Vegan"}]}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(tmp_path) as value:
        yield value


def _enter(world: World, app: dict[str, str]) -> str:
    url = world.client.post("/v1/me/wallet-link", headers=app).json()["url"]
    assert world.client.get(url, follow_redirects=False).status_code == 303
    page = world.client.get("/portal/wallet")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_the_shopper_picks_interests_on_the_wallet_page(world: World) -> None:
    assert world.client.put("/v1/offers/segments", headers=world.key("admin"), json=CATALOGUE).status_code == 200
    _subject, app = world.shopper()
    csrf = _enter(world, app)
    page = world.client.get("/portal/wallet").text
    assert 'data-testid="preferences" data-chosen="0"' in page and "Organic food" in page

    forged = world.client.post("/portal/wallet/preferences", data={"segments": ["organic"], "csrf_token": "x"})
    assert forged.status_code == 403
    assert world.client.get("/v1/me/preferences", headers=app).json()["segments"] == []

    form = {"segments": ["organic", "vegan"], "csrf_token": csrf}
    saved = world.client.post("/portal/wallet/preferences", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/portal/wallet?saved=1"
    assert world.client.get("/v1/me/preferences", headers=app).json()["segments"] == ["organic", "vegan"]
    page = world.client.get("/portal/wallet?saved=1").text
    assert 'data-chosen="2"' in page and 'value="organic" checked' in page and "preferences-saved" in page

    cleared = world.client.post("/portal/wallet/preferences", data={"csrf_token": csrf}, follow_redirects=False)
    assert cleared.status_code == 303
    assert world.client.get("/v1/me/preferences", headers=app).json()["segments"] == []


def test_without_personalization_there_is_no_form_and_nothing_is_saved(world: World) -> None:
    world.client.put("/v1/offers/segments", headers=world.key("admin"), json=CATALOGUE)
    _subject, app = world.shopper(tier=1)
    csrf = _enter(world, app)
    assert 'data-testid="preferences"' not in world.client.get("/portal/wallet").text
    refused = world.client.post("/portal/wallet/preferences", data={"segments": ["organic"], "csrf_token": csrf})
    assert refused.status_code == 403 and "Personalized offers" in refused.text
    assert world.client.get("/v1/me/preferences", headers=app).json()["segments"] == []
