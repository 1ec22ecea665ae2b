"""The sender against a fake HTTP transport and a fixed clock: signed bodies, retries with backoff,
dead after the last attempt, consent re-checked (dropped), expired coupons, claim leases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from tests.unit.offers.delivery.world import FAST_RETRY, World, make_world
from tradeoff.core.clock import FixedClock
from tradeoff.offers.delivery.endpoints import Endpoint, create_endpoint, secret_of
from tradeoff.offers.delivery.receipts import receipts_for
from tradeoff.offers.delivery.sender import OfferSender, RoundReport, SenderConfig
from tradeoff.offers.delivery.signing import verify
from tradeoff.offers.processor import PseudonymResolver
from tradeoff.platform.db.engine import write_transaction
from tradeoff.privacy.capability import privacy_of


@dataclass
class Receiver:
    """Answers with the next status of ``script`` (then 200), verifying every signature."""

    endpoint: Endpoint | None = None
    world: World | None = None
    script: list[int] = field(default_factory=list)
    bodies: list[dict[str, object]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert self.endpoint is not None and self.world is not None
        secret = secret_of(privacy_of(self.world.platform).keys, self.endpoint)
        self.ids.append(verify(secret, headers=dict(request.headers), body=request.content, now=datetime.now(UTC)))
        self.bodies.append(orjson.loads(request.content))
        return httpx.Response(self.script.pop(0) if self.script else 200)


@dataclass
class Rig:
    world: World
    sender: OfferSender
    clock: FixedClock
    receiver: Receiver


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with make_world(tmp_path) as world:
        receiver = Receiver(world=world)
        clock = FixedClock(datetime.now(UTC) + timedelta(seconds=1))
        privacy = privacy_of(world.platform)
        sender = OfferSender(
            world.platform.engine,
            keys=privacy.keys,
            resolver=PseudonymResolver(privacy.gate.pseudonyms),
            clock=clock,
            config=SenderConfig(retry=FAST_RETRY),
            client=httpx.Client(transport=httpx.MockTransport(receiver)),
        )
        yield Rig(world, sender, clock, receiver)
        sender.client.close()


def _endpoint(rig: Rig) -> None:
    with write_transaction(rig.world.platform.engine) as conn:
        rig.receiver.endpoint = create_endpoint(
            conn, tenant_id=rig.world.tenant_id, url="https://app.example.com/hook", now=rig.clock.now()
        )


def test_without_an_endpoint_nothing_is_claimed(rig: Rig) -> None:
    subject_id, _app = rig.world.shopper()
    coupon_id = rig.world.issue(subject_id)
    assert rig.sender.run_once().handled == 0
    assert rig.world.outbox(coupon_id)["attempts"] == 0


def test_failures_are_retried_with_backoff_then_sent_signed(rig: Rig) -> None:
    _endpoint(rig)
    subject_id, _app = rig.world.shopper()
    coupon_id = rig.world.issue(subject_id)
    rig.receiver.script = [500, 503]

    assert rig.sender.run_once().failed == 1
    row = rig.world.outbox(coupon_id)
    assert row["status"] == "failed" and row["attempts"] == 1 and "HTTP 500" in row["last_error"]
    wait = row["next_attempt_at"] - rig.clock.now()
    assert timedelta(milliseconds=149) <= wait <= timedelta(milliseconds=201)  # 200 ms, 25 % jitter
    assert rig.sender.run_once().handled == 0  # not due yet

    rig.clock.advance(timedelta(seconds=1))
    assert rig.sender.run_once().failed == 1
    row = rig.world.outbox(coupon_id)
    assert row["attempts"] == 2 and "HTTP 503" in row["last_error"]
    assert timedelta(milliseconds=299) <= row["next_attempt_at"] - rig.clock.now() <= timedelta(milliseconds=401)

    rig.clock.advance(timedelta(seconds=1))
    assert rig.sender.run_once().sent == 1
    row = rig.world.outbox(coupon_id)
    assert row["status"] == "sent" and row["attempts"] == 3 and row["last_error"] is None and row["sent_at"]
    assert rig.receiver.ids == [f"msg_{coupon_id}"] * 3  # the same id on every retry: receivers dedupe
    data = rig.receiver.bodies[-1]["data"]
    assert isinstance(data, dict)
    assert data["subject_id"] == subject_id and data["coupon_id"] == coupon_id and "code" not in data
    with rig.world.platform.engine.connect() as conn:
        receipt = receipts_for(conn, tenant_id=rig.world.tenant_id, coupon_ids=[coupon_id])[coupon_id]
    assert receipt.delivered_via == "webhook"


def test_a_delivery_is_dead_after_the_last_attempt(rig: Rig) -> None:
    _endpoint(rig)
    subject_id, _app = rig.world.shopper()
    coupon_id = rig.world.issue(subject_id)
    rig.receiver.script = [500] * FAST_RETRY.max_attempts
    for _ in range(FAST_RETRY.max_attempts):
        rig.sender.run_once()
        rig.clock.advance(timedelta(seconds=5))
    row = rig.world.outbox(coupon_id)
    assert row["status"] == "dead" and row["attempts"] == FAST_RETRY.max_attempts and row["last_error"]
    assert rig.sender.run_once().handled == 0

    retried = rig.world.client.post(f"/v1/offers/outbox/{row['id']}/retry", headers=rig.world.key("admin"))
    assert retried.status_code == 200 and rig.world.outbox(coupon_id)["status"] == "pending"
    assert rig.sender.run_once().sent == 1
    outbox = rig.world.client.get("/v1/offers/outbox", headers=rig.world.key("staff")).json()["outbox"]
    assert outbox[0]["status"] == "sent" and "pseudonym" not in outbox[0] and "payload" not in outbox[0]


def test_a_withdrawal_since_issue_drops_the_delivery(rig: Rig) -> None:
    _endpoint(rig)
    subject_id, app = rig.world.shopper()
    coupon_id = rig.world.issue(subject_id)
    rig.world.set_tier(app, 1)
    assert rig.sender.run_once().dropped == 1
    row = rig.world.outbox(coupon_id)
    assert row["status"] == "dropped" and "consent" in row["last_error"] and rig.receiver.ids == []


def test_an_erased_subject_gets_nothing(rig: Rig) -> None:
    _endpoint(rig)
    subject_id, app = rig.world.shopper()
    coupon_id = rig.world.issue(subject_id)
    assert rig.world.client.delete("/v1/me", headers=app).status_code == 200
    report = rig.sender.run_once()
    assert rig.receiver.ids == [] and report.sent == 0
    with pytest.raises(Exception, match="No row was found"):  # erasure deleted the outbox row (pseudonym_key)
        rig.world.outbox(coupon_id)


def test_an_expired_coupon_is_not_sent(rig: Rig) -> None:
    _endpoint(rig)
    subject_id, _app = rig.world.shopper()
    coupon_id = rig.world.issue(subject_id, valid=timedelta(milliseconds=500))
    rig.clock.advance(timedelta(seconds=1))
    assert rig.sender.run_once().expired == 1
    assert rig.world.outbox(coupon_id)["status"] == "expired" and rig.receiver.ids == []


def test_a_claim_is_a_lease(rig: Rig) -> None:
    _endpoint(rig)
    subject_id, _app = rig.world.shopper()
    coupon_id = rig.world.issue(subject_id)
    claimed = rig.sender._claim(rig.clock.now(), RoundReport())  # a sender that dies right after claiming
    assert [c.coupon_id for c in claimed] == [coupon_id]
    assert rig.sender.run_once().handled == 0  # leased: nobody else takes it
    rig.clock.advance(rig.sender.config.lease + timedelta(seconds=1))
    assert rig.sender.run_once().sent == 1
    assert rig.world.outbox(coupon_id)["attempts"] == 2
