"""``/v1/me/offers`` with the app token: the list with codes, receipts, QR, consent, long-poll and SSE."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.offers.delivery.world import World, make_world
from tradeoff.offers.coupons.codes import make_code
from tradeoff.offers.coupons.keyring import coupon_key
from tradeoff.privacy.capability import privacy_of


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(tmp_path) as value:
        yield value


def test_the_app_fetches_its_offers_with_code_and_qr_and_is_marked_delivered(world: World) -> None:
    subject_id, app = world.shopper()
    _other_id, other = world.shopper()
    coupon_id = world.issue(subject_id)

    response = world.client.get("/v1/me/offers", headers=app)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store, private"
    doc = response.json()
    assert doc["consent"] is True and doc["cursor"] > 0
    (offer,) = doc["offers"]
    key = coupon_key(keys=privacy_of(world.platform).keys, tenant_id=world.tenant_id)
    assert offer["code"] == make_code(key=key, serial=int(coupon_id[1:]))
    assert offer["qr_url"] == f"/v1/me/offers/{coupon_id}/qr.svg"
    assert offer["terms"] == "10% off your purchase. One use."
    assert offer["state"] == "issued" and offer["title"] == "10% off dairy"
    assert offer["receipt"]["delivered_via"] == "pull" and offer["receipt"]["displayed_at"] is None

    again = world.client.get("/v1/me/offers", headers=app).json()["offers"][0]
    assert again["receipt"]["delivered_at"] == offer["receipt"]["delivered_at"]  # the first fetch counts
    assert world.client.get("/v1/me/offers", headers=other).json()["offers"] == []
    assert world.client.get(f"/v1/me/offers/{coupon_id}", headers=other).status_code == 404
    assert world.client.get("/v1/me/offers").status_code == 401

    qr = world.client.get(offer["qr_url"], headers=app)
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert qr.content.startswith(b"<svg")


def test_displayed_and_opened_receipts_are_idempotent(world: World) -> None:
    subject_id, app = world.shopper()
    coupon_id = world.issue(subject_id)
    shown = world.client.post(f"/v1/me/offers/{coupon_id}/displayed", headers=app).json()["receipt"]
    assert shown["delivered_via"] == "app" and shown["displayed_at"] and shown["opened_at"] is None
    time.sleep(0.01)
    assert world.client.post(f"/v1/me/offers/{coupon_id}/displayed", headers=app).json()["receipt"] == shown
    opened = world.client.post(f"/v1/me/offers/{coupon_id}/opened", headers=app).json()["receipt"]
    assert opened["displayed_at"] == shown["displayed_at"] and opened["opened_at"]
    assert world.client.post(f"/v1/me/offers/{coupon_id}/opened", headers=app).json()["receipt"] == opened
    assert world.client.post("/v1/me/offers/nope/opened", headers=app).status_code == 404


def test_without_personalization_consent_nothing_is_delivered(world: World) -> None:
    subject_id, app = world.shopper()
    coupon_id = world.issue(subject_id)
    world.set_tier(app, 1)
    doc = world.client.get("/v1/me/offers", headers=app).json()
    assert doc["offers"] == [] and doc["consent"] is False
    assert world.client.get(f"/v1/me/offers/{coupon_id}/qr.svg", headers=app).status_code == 404
    world.set_tier(app, 2)
    assert [o["coupon_id"] for o in world.client.get("/v1/me/offers", headers=app).json()["offers"]] == [coupon_id]


def test_expired_coupons_leave_the_list_but_stay_readable(world: World) -> None:
    from datetime import timedelta

    subject_id, app = world.shopper()
    coupon_id = world.issue(subject_id, valid=timedelta(milliseconds=1))
    time.sleep(0.01)
    assert world.client.get("/v1/me/offers", headers=app).json()["offers"] == []
    assert world.client.get(f"/v1/me/offers/{coupon_id}", headers=app).json()["state"] == "expired"


def test_long_poll_returns_as_soon_as_a_new_offer_exists(world: World) -> None:
    subject_id, app = world.shopper()
    cursor = world.client.get("/v1/me/offers", headers=app).json()["cursor"]
    timer = threading.Timer(0.6, world.issue, args=(subject_id,))
    started = time.monotonic()
    timer.start()
    doc = world.client.get("/v1/me/offers", headers=app, params={"wait": 10, "after": cursor}).json()
    elapsed = time.monotonic() - started
    timer.join()
    assert 0.5 < elapsed < 5 and len(doc["offers"]) == 1 and doc["cursor"] > cursor

    started = time.monotonic()
    same = world.client.get("/v1/me/offers", headers=app, params={"wait": 1, "after": doc["cursor"]}).json()
    assert 0.9 < time.monotonic() - started < 4 and same["cursor"] == doc["cursor"]
    assert world.client.get("/v1/me/offers", headers=app, params={"wait": 31}).status_code == 422


def test_the_event_stream_sends_each_offer_once_and_resumes_by_last_event_id(world: World) -> None:
    subject_id, app = world.shopper()
    first = world.issue(subject_id)
    timer = threading.Timer(0.5, world.issue, args=(subject_id,))
    timer.start()
    response = world.client.get("/v1/me/offers/stream", headers=app, params={"timeout": 2})
    timer.join()
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if "event: offer" in block]
    assert len(events) == 2 and first in events[0]
    last_id = events[-1].split("\n")[0].removeprefix("id: ")
    resumed = world.client.get("/v1/me/offers/stream", headers={**app, "Last-Event-ID": last_id}, params={"timeout": 1})
    assert "event: offer" not in resumed.text
