"""Delivery against real HTTP on both backends: a local receiver that fails the first attempts then
accepts (retries and backoff observed, every signature verified by the receiver), several senders
sharing the outbox without double sends, and the app's long-poll waking on a new offer over a real
server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.support.services import free_port, rls_databases
from tests.unit.offers.delivery.world import FAST_RETRY, World, make_world
from tradeoff.offers.delivery.app_client import OfferFeed
from tradeoff.offers.delivery.sender import OfferSender, SenderConfig
from tradeoff.offers.delivery.signing import SignatureError, verify
from tradeoff.offers.processor import PseudonymResolver
from tradeoff.privacy.capability import privacy_of

FAST = SenderConfig(poll_seconds=0.05, retry=FAST_RETRY)


@dataclass
class Hit:
    at: float
    msg_id: str
    verified: bool


@dataclass
class Receiver:
    """An app backend: answers ``script`` statuses in turn (then 200) and checks every signature."""

    secret: str = ""
    script: list[int] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        try:
            msg_id, verified = verify(self.secret, headers=headers, body=body, now=datetime.now(UTC)), True
        except SignatureError:
            msg_id, verified = headers.get("webhook-id", ""), False
        with self.lock:
            self.hits.append(Hit(time.monotonic(), msg_id, verified))
            status = self.script.pop(0) if self.script else 200
        return status if verified else 401


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = state.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/tradeoff/webhooks"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with make_world(tmp_path, database_url, sender=FAST) as value:
        yield value


def _endpoint(world: World, url: str) -> str:
    response = world.client.post("/v1/offers/webhooks", headers=world.key("admin"), json={"url": url})
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret


def _until(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_failed_attempts_are_retried_with_growing_waits_then_delivered(
    world: World, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    state.secret = _endpoint(world, url)
    state.script = [500, 502]
    subject_id, _app = world.shopper()
    coupon_id = world.issue(subject_id)
    world.delivery.sender.start()
    _until(lambda: world.outbox(coupon_id)["status"] == "sent")

    row = world.outbox(coupon_id)
    assert row["attempts"] == 3 and row["last_error"] is None
    assert [hit.msg_id for hit in state.hits] == [f"msg_{coupon_id}"] * 3
    assert all(hit.verified for hit in state.hits)
    first_wait = state.hits[1].at - state.hits[0].at
    second_wait = state.hits[2].at - state.hits[1].at
    # 200 ms then 400 ms nominal, 25 % jitter, plus at most one 50 ms poll
    assert 0.14 <= first_wait < 0.45 and 0.29 <= second_wait < 0.7 and second_wait > first_wait


def test_several_senders_share_the_outbox_without_sending_twice(world: World, receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    state.secret = _endpoint(world, url)
    subject_id, _app = world.shopper()
    coupons = [world.issue(subject_id) for _ in range(12)]
    privacy = privacy_of(world.platform)
    others = [
        OfferSender(
            world.platform.engine,
            keys=privacy.keys,
            resolver=PseudonymResolver(privacy.gate.pseudonyms),
            config=SenderConfig(poll_seconds=0.05, batch_size=2, retry=FAST_RETRY),
        )
        for _ in range(2)
    ]
    for sender in [world.delivery.sender, *others]:
        sender.start()
    try:
        _until(lambda: all(world.outbox(c)["status"] == "sent" for c in coupons))
    finally:
        for sender in others:
            sender.stop()
    assert sorted(hit.msg_id for hit in state.hits) == sorted(f"msg_{c}" for c in coupons)
    assert all(world.outbox(c)["attempts"] == 1 for c in coupons)


def test_the_apps_long_poll_wakes_on_a_new_offer_over_real_http(world: World) -> None:
    port = free_port()
    config = uvicorn.Config(world.client.app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _until(lambda: server.started)
    subject_id, app = world.shopper()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            feed = OfferFeed(client, app["Authorization"].removeprefix("Bearer "))
            assert feed.offers() == []
            timer = threading.Timer(0.5, world.issue, args=(subject_id,))
            started = time.monotonic()
            timer.start()
            (offer,) = feed.wait_for_new(timeout=10)
            timer.join()
            assert time.monotonic() - started < 5
            assert offer["receipt"]["delivered_via"] == "pull" and len(offer["code"]) == 14
            assert feed.receipt(offer["coupon_id"], "opened")["receipt"]["opened_at"]
            assert feed.qr_svg(offer["coupon_id"]).startswith(b"<svg")
            assert feed.wait_for_new(timeout=1) == []
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.postgres
def test_pull_receipts_wallet_and_webhooks_under_row_level_security(tmp_path: Path) -> None:
    """Every request-side query binds its transaction to the tenant: as the RLS-bound role, nothing fails."""
    with rls_databases() as (owner_url, app_url), make_world(tmp_path, owner_url, app_url=app_url) as world:
        subject_id, app = world.shopper()
        coupon_id = world.issue(subject_id)
        (offer,) = world.client.get("/v1/me/offers", headers=app).json()["offers"]
        assert offer["coupon_id"] == coupon_id and offer["receipt"]["delivered_via"] == "pull"
        opened = world.client.post(f"/v1/me/offers/{coupon_id}/opened", headers=app).json()["receipt"]
        assert opened["opened_at"] and opened["displayed_at"]
        created = world.client.post(
            "/v1/offers/webhooks", headers=world.key("admin"), json={"url": "https://app.example.com/hook"}
        )
        assert created.status_code == 201, created.text
        assert len(world.client.get("/v1/offers/webhooks", headers=world.key("admin")).json()["endpoints"]) == 1
        assert world.client.get("/v1/offers/outbox", headers=world.key("admin")).json()["outbox"][0]["coupon_id"] == (
            coupon_id
        )
        link = world.client.post("/v1/me/wallet-link", headers=app).json()["url"]
        assert world.client.get(link).status_code == 200
        assert offer["code"] in world.client.get("/portal/wallet").text
