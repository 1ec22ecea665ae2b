"""Crash test: 10,000 events over MQTT while the server is SIGKILLed and restarted, twice.

Afterwards every event is stored exactly once and the processors' effects add up exactly once.
The broker is a private Mosquitto with unlimited queueing for offline sessions, the setting the
README asks for in production (Debian's default drops all but 1,000 queued messages).
"""

import threading
import time
import uuid
from pathlib import Path

import orjson
import psycopg
import pytest

from tests.e2e.conftest import deploy
from tests.support.mqtt import Publisher
from tests.support.server import ServerProcess
from tests.support.services import private_mosquitto

pytestmark = [pytest.mark.mqtt, pytest.mark.postgres, pytest.mark.slow]

TOTAL = 10_000
DEVICES = 20


def messages(tag: str) -> list[tuple[str, bytes]]:
    return [
        (
            f"tradeoff/acme/dev-{i % DEVICES}/device.telemetry",
            orjson.dumps({"event_id": f"{tag}-{i}", "occurred_at": "2026-11-29T10:00:00Z", "payload": {"i": i}}),
        )
        for i in range(TOTAL)
    ]


def scalar(pg: str, sql: str) -> int:
    with psycopg.connect(pg.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row and row[0] is not None else 0


def test_sigkill_during_mqtt_ingest_loses_and_duplicates_nothing(pg_url: str, tmp_path: Path) -> None:
    with private_mosquitto() as port:
        deployment = deploy(
            pg_url,
            tmp_path,
            TRADEOFF_MQTT_URL=f"mqtt://127.0.0.1:{port}",
            TRADEOFF_MQTT_CLIENT_ID="crash-test-ingest",
        )
        server = ServerProcess(deployment.env, tmp_path / "server.log")
        server.start()
        published = 0
        done = threading.Event()

        def publish() -> None:
            nonlocal published
            publisher = Publisher(port, client_id=f"crash-pub-{uuid.uuid4().hex[:8]}")
            try:
                batch = messages("crash")
                for start in range(0, TOTAL, 250):
                    published += publisher.publish_all(batch[start : start + 250])
                    time.sleep(0.05)
            finally:
                publisher.close()
                done.set()

        thread = threading.Thread(target=publish)
        thread.start()
        try:
            kills = 0
            for threshold in (2_000, 6_000):
                while published < threshold and not done.is_set():
                    time.sleep(0.01)
                server.kill()
                kills += 1
                time.sleep(0.5)  # the broker queues for the dead session meanwhile
                server.start(wait_ready=False)
            thread.join(timeout=120)
            assert published == TOTAL and kills == 2
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                stored = scalar(pg_url, "SELECT count(*) FROM events")
                applied = scalar(pg_url, "SELECT sum(events_count) FROM device_state")
                if stored >= TOTAL and applied >= TOTAL:
                    break
                time.sleep(0.2)
            time.sleep(1)  # let any late redelivery land before counting
            assert scalar(pg_url, "SELECT count(*) FROM events") == TOTAL
            assert scalar(pg_url, "SELECT count(DISTINCT event_id) FROM events") == TOTAL
            assert scalar(pg_url, "SELECT sum(events_count) FROM device_state") == TOTAL
            assert scalar(pg_url, "SELECT count(*) FROM device_state") == DEVICES
            assert scalar(pg_url, "SELECT count(*) FROM dead_letters") == 0
        finally:
            server.stop()
