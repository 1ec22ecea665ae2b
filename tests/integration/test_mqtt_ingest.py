"""The MQTT transport against the real Mosquitto, storing on SQLite and PostgreSQL."""

import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import Engine, func, select

from tests.support.mqtt import Publisher, forget_session
from tests.support.services import MQTT_PORT, need
from tradeoff.platform import tenancy
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.platform.ingest.message import Candidate, RawMessage
from tradeoff.platform.mqtt import MqttIngestor
from tradeoff.platform.settings import Settings

pytestmark = pytest.mark.mqtt


class UpperDecoder:
    """A vendor format stand-in: plain text lines become one event each."""

    name = "textlines"

    def decode(self, message: RawMessage) -> list[Candidate]:
        now = datetime(2026, 11, 29, tzinfo=UTC).isoformat()
        return [
            Candidate({"event_id": line, "type": "vendor.line", "occurred_at": now, "source": message.source})
            for line in message.body.decode().splitlines()
        ]


@pytest.fixture
def platform(engine: Engine, database_url: str) -> Iterator[Platform]:
    need("Mosquitto", "127.0.0.1", MQTT_PORT)
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        database_url=database_url,
        mqtt_url=f"mqtt://127.0.0.1:{MQTT_PORT}",
        mqtt_client_id=f"test-ingest-{tag}",
        mqtt_topic_prefix=f"test{tag}",
    )
    with engine.begin() as conn:
        tenancy.create_tenant(conn, slug="acme", name="Acme")
    the_platform = build_platform(settings)
    the_platform.decoders.register(UpperDecoder())
    the_platform.start()
    assert isinstance(the_platform.mqtt, MqttIngestor) and the_platform.mqtt.wait_connected(10)
    yield the_platform
    the_platform.close()
    forget_session(MQTT_PORT, settings.mqtt_client_id)


def wait_for(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_mqtt_events_are_stored_once_and_bad_ones_dead_lettered(platform: Platform, engine: Engine) -> None:
    prefix = platform.settings.mqtt_topic_prefix
    heartbeat = f"{prefix}/acme/gw-1/device.heartbeat"

    def envelope(event_id: str) -> bytes:
        return orjson.dumps({"event_id": event_id, "occurred_at": "2026-11-29T10:00:00Z", "payload": {"n": 1}})

    publisher = Publisher(MQTT_PORT, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    try:
        publisher.publish_all(
            [
                (heartbeat, envelope("m1")),
                (heartbeat, envelope("m2")),
                (heartbeat, envelope("m1")),  # QoS 1 redelivery or a device retry
                (heartbeat, b"{broken"),
                (f"{prefix}/nobody/gw-1/device.heartbeat", envelope("m3")),
                (f"{prefix}/acme/gw-2/textlines", b"line-a\nline-b"),
                (heartbeat, orjson.dumps({"event_id": "m4", "occurred_at": "2026-11-29T10:00:00Z", "source": "x"})),
            ]
        )
    finally:
        publisher.close()
    wait_for(lambda: count(engine, events) >= 4 and count(engine, dead_letters) >= 3)
    time.sleep(0.3)  # nothing more should arrive
    with engine.connect() as conn:
        stored = conn.execute(select(events.c.event_id, events.c.source, events.c.type).order_by(events.c.seq)).all()
        letters = {row.reason_code: row for row in conn.execute(select(dead_letters))}
    assert sorted(stored) == [
        ("line-a", "gw-2", "vendor.line"),
        ("line-b", "gw-2", "vendor.line"),
        ("m1", "gw-1", "device.heartbeat"),
        ("m2", "gw-1", "device.heartbeat"),
    ]
    assert set(letters) == {"undecodable", "unknown_tenant", "invalid_event"}
    assert letters["unknown_tenant"].tenant_id is None and letters["undecodable"].raw == b"{broken"
    assert "source" in letters["invalid_event"].reason


def test_a_killed_reader_process_is_replaced_and_nothing_is_lost(platform: Platform, engine: Engine) -> None:
    ingestor = platform.mqtt
    assert isinstance(ingestor, MqttIngestor) and ingestor._reader is not None
    first_reader = ingestor._reader
    topic = f"{platform.settings.mqtt_topic_prefix}/acme/gw-1/device.heartbeat"
    messages = [
        (topic, orjson.dumps({"event_id": f"k{n}", "occurred_at": "2026-11-29T10:00:00Z", "payload": {"n": n}}))
        for n in range(600)  # the shared test broker queues at most 1,000 for an absent session
    ]
    publisher = Publisher(MQTT_PORT, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    try:
        publisher.publish_all(messages[:300])
        wait_for(lambda: count(engine, events) >= 100)
        os.kill(first_reader.pid or 0, signal.SIGKILL)  # whatever it had not acknowledged comes again
        publisher.publish_all(messages[300:])
        wait_for(lambda: count(engine, events) >= 600, timeout=30)
    finally:
        publisher.close()
    assert ingestor._reader is not first_reader and ingestor.wait_connected(10)
    with engine.connect() as conn:
        stored = [row.event_id for row in conn.execute(select(events.c.event_id))]
    assert sorted(stored) == sorted(f"k{n}" for n in range(600))


def test_readiness_reports_the_broker(platform: Platform) -> None:
    from fastapi.testclient import TestClient

    from tradeoff.platform.http.app import create_app

    with TestClient(create_app(platform=platform)) as client:
        assert client.get("/readyz").json()["checks"] == {"database": "ok", "mqtt": "ok"}
