"""The privacy gate inside a real ``IngestPipeline`` (SQLite and PostgreSQL): consent decides what is
stored, a withdrawal applies to the very next event, and no card number reaches the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from tradeoff.core.clock import utcnow
from tradeoff.platform import tenancy
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline
from tradeoff.privacy.consent import ConsentCache, ConsentChange, Source, change_consent, changes_for_tier
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.keys import LocalKeyProvider
from tradeoff.privacy.scrub import scan
from tradeoff.privacy.subjects import Pseudonymizer, register_subject


class World:
    def __init__(self, engine: Engine, keyring: Path, ttl: float) -> None:
        self.engine = engine
        self.pseudonyms = Pseudonymizer(LocalKeyProvider(keyring))
        self.gate = PrivacyGate(consent=ConsentCache(engine, ttl_seconds=ttl), pseudonyms=self.pseudonyms)
        self.pipeline = IngestPipeline(engine=engine, decoders=default_registry(100))
        self.pipeline.add_gate(self.gate)
        with engine.begin() as conn:
            self.tenant = tenancy.create_tenant(conn, slug="acme", name="Acme").id
            self.subject = register_subject(conn, tenant_id=self.tenant, at=utcnow()).subject.subject_id
        self.counter = 0

    def consent(self, tier: int) -> None:
        change = ConsentChange(changes_for_tier(tier), "2026-11", Source.APP)
        change_consent(self.engine, tenant_id=self.tenant, subject_id=self.subject, change=change, at=utcnow())

    def send(self, type_: str = "presence.sighting", **payload: Any) -> list[str]:
        self.counter += 1
        event = {
            "event_id": f"app-{self.counter}",
            "type": type_,
            "occurred_at": utcnow().isoformat(),
            "source": "gw-1",
            "payload": {"subject": self.subject, "zone": "entrance", **payload},
        }
        body = orjson.dumps({"events": [event]})
        message = RawMessage(body=body, transport="http", tenant_id=self.tenant, received_at=utcnow())
        return [item.status for item in self.pipeline.ingest(message, decoder="json-batch").items]

    def stored(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(events.c.seq, events.c.event_id, events.c.payload).order_by(events.c.seq)))


@pytest.fixture(params=[0.0, 3600.0], ids=["no-cache", "cached"])
def world(request: pytest.FixtureRequest, engine: Engine, tmp_path: Path) -> World:
    return World(engine, tmp_path / "keys" / "keyring.json", request.param)


def test_consent_decides_and_withdrawal_applies_to_the_next_event(world: World) -> None:
    assert world.send() == ["dropped"]  # registered, no consent yet
    world.consent(1)
    assert [world.send()[0] for _ in range(3)] == ["accepted"] * 3
    stored = world.stored()
    assert len(stored) == 3
    day_pseudonym = world.pseudonyms.daily(world.tenant, world.subject, utcnow().date())
    assert {row.payload["subject"] for row in stored} <= {
        day_pseudonym,
        world.pseudonyms.daily(world.tenant, world.subject, utcnow().date() - timedelta(days=1)),
    }
    last_seq = stored[-1].seq

    world.consent(0)  # withdraw everything
    assert world.send() == ["dropped"]  # the very next event
    assert [world.send()[0] for _ in range(5)] == ["dropped"] * 5
    after = [row for row in world.stored() if row.seq > last_seq]
    assert after == []  # 0 events stored after withdrawal

    # Nothing stored names the subject itself: only pseudonyms.
    dump = orjson.dumps([[row.event_id, row.payload] for row in world.stored()]).decode()
    assert world.subject not in dump


def test_tiers_choose_pseudonym_and_purposes(world: World) -> None:
    world.consent(2)
    assert world.send("offers.shown", offer="o1") == ["accepted"]
    assert world.send("pos.basket.linked", basket="b1") == ["dropped"]  # needs tier 3
    world.consent(3)
    assert world.send("pos.basket.linked", basket="b1", card_fingerprint="fp_123") == ["accepted"]
    rows = world.stored()
    assert [row.payload["subject"] for row in rows] == [world.pseudonyms.stable(world.tenant, world.subject)] * 2
    assert rows[1].payload["card_fingerprint"].startswith("tok_card_fingerprint_")


def test_no_card_data_or_raw_identifier_is_stored(world: World) -> None:
    world.consent(2)
    statuses = world.send(
        note="paid with 4111 1111 1111 1111, cvv 123, mail ann@example.org",
        card={"number": "5555-5555-5555-4444", "cvv": "999", "track2": ";5555555555554444=2512101?"},
        items=[{"sku": "A1", "ref": 378282246310005}],
        device_id="0F8E2B6C-IDFA",
    )
    assert statuses == ["accepted"]
    with world.engine.connect() as conn:
        payloads = list(conn.scalars(select(events.c.payload)))
    dump = orjson.dumps(payloads).decode()
    for secret in ("4111", "5555555555554444", "5555-5555", "378282246310005", "999", "ann@example.org", "IDFA"):
        assert secret not in dump, secret
    assert [f.kind for f in scan(payloads)] == []


def test_a_rejected_event_does_not_carry_a_pan_into_dead_letters(world: World) -> None:
    bad = {"event_id": "x", "type": "pos.sale", "occurred_at": "not a time", "payload": {"pan": "4111111111111111"}}
    message = RawMessage(
        body=orjson.dumps({"events": [bad]}), transport="http", tenant_id=world.tenant, received_at=utcnow()
    )
    assert [i.status for i in world.pipeline.ingest(message, decoder="json-batch").items] == ["rejected"]
    with world.engine.connect() as conn:
        raws = list(conn.scalars(select(dead_letters.c.raw)))
    assert raws and all(b"4111111111111111" not in raw for raw in raws)


def test_tier1_pseudonym_rotates_across_days(world: World) -> None:
    world.consent(1)
    day1 = datetime(2026, 11, 29, 10, tzinfo=UTC)
    for offset in (0, 1):
        event = {
            "event_id": f"d{offset}",
            "type": "presence.sighting",
            "occurred_at": (day1 + timedelta(days=offset)).isoformat(),
            "source": "gw-1",
            "payload": {"subject": world.subject},
        }
        message = RawMessage(
            body=orjson.dumps({"events": [event]}), transport="http", tenant_id=world.tenant, received_at=utcnow()
        )
        world.pipeline.ingest(message, decoder="json-batch")
    first, second = (row.payload["subject"] for row in world.stored())
    assert first != second and first.startswith("pd_") and second.startswith("pd_")
