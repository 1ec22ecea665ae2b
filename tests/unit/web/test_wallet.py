"""The wallet page: entered by a one-time link from the app, shows delivered offers with QR and code,
records displayed/opened, and shows nothing without consent or a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.offers.delivery.world import World, make_world
from tradeoff.offers.delivery.receipts import receipts_for


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(tmp_path) as value:
        yield value


def _enter(world: World, app: dict[str, str]) -> str:
    link = world.client.post("/v1/me/wallet-link", headers=app)
    assert link.status_code == 200, link.text
    url: str = link.json()["url"]
    assert url.startswith("/portal/wallet/enter?code=")
    entered = world.client.get(url, follow_redirects=False)
    assert entered.status_code == 303 and entered.headers["location"] == "/portal/wallet"
    return url


def test_the_wallet_shows_offers_with_qr_and_code_and_records_receipts(world: World) -> None:
    subject_id, app = world.shopper()
    coupon_id = world.issue(subject_id)
    url = _enter(world, app)
    page = world.client.get("/portal/wallet")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    code = world.client.get(f"/v1/me/offers/{coupon_id}", headers=app).json()["code"]
    assert 'data-offers="1"' in page.text and code in page.text
    assert f'src="/portal/wallet/{coupon_id}/qr.svg"' in page.text
    with world.platform.engine.connect() as conn:
        receipt = receipts_for(conn, tenant_id=world.tenant_id, coupon_ids=[coupon_id])[coupon_id]
    assert receipt.delivered_via == "wallet" and receipt.displayed_at and receipt.opened_at is None

    qr = world.client.get(f"/portal/wallet/{coupon_id}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    detail = world.client.get(f"/portal/wallet/{coupon_id}")
    assert detail.status_code == 200 and code in detail.text and 'data-state="issued"' in detail.text
    with world.platform.engine.connect() as conn:
        assert receipts_for(conn, tenant_id=world.tenant_id, coupon_ids=[coupon_id])[coupon_id].opened_at
    assert world.client.get("/portal/wallet/nope").status_code == 404

    world.client.cookies.clear()
    again = world.client.get(url, follow_redirects=False)
    assert again.status_code == 400 and "already used" in again.text
    assert world.client.get("/portal/wallet", follow_redirects=False).headers["location"] == "/portal"


def test_another_shoppers_offer_is_not_in_my_wallet(world: World) -> None:
    alice, _alice_app = world.shopper()
    _bob, bob_app = world.shopper()
    coupon_id = world.issue(alice)
    _enter(world, bob_app)
    assert 'data-offers="0"' in world.client.get("/portal/wallet").text
    assert world.client.get(f"/portal/wallet/{coupon_id}/qr.svg").status_code == 404


def test_without_consent_the_wallet_says_why(world: World) -> None:
    subject_id, app = world.shopper()
    world.issue(subject_id)
    world.set_tier(app, 1)
    _enter(world, app)
    page = world.client.get("/portal/wallet").text
    assert 'data-consent="no"' in page and "Personalized offers" in page
