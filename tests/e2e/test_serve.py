"""``tradeoff serve`` as a real process: ingest over HTTP and MQTT, read everything back over HTTP."""

import time
import uuid
from pathlib import Path

import httpx
import orjson
import pytest

from tests.e2e.conftest import Deployment
from tests.support.mqtt import Publisher, forget_session
from tests.support.server import ServerProcess, cli, cli_json
from tests.support.services import MQTT_PORT, need

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]


def test_http_and_mqtt_ingest_read_back_through_the_api(sqlite_deployment: Deployment, tmp_path: Path) -> None:
    need("Mosquitto", "127.0.0.1", MQTT_PORT)
    tag = uuid.uuid4().hex[:8]
    env = {
        **sqlite_deployment.env,
        "TRADEOFF_MQTT_URL": f"mqtt://127.0.0.1:{MQTT_PORT}",
        "TRADEOFF_MQTT_CLIENT_ID": f"e2e-{tag}",
        "TRADEOFF_MQTT_TOPIC_PREFIX": f"e2e{tag}",
    }
    server = ServerProcess(env, tmp_path / "server.log")
    server.start()
    headers = {"Authorization": f"Bearer {sqlite_deployment.admin_key}"}
    try:
        batch = {
            "events": [
                {"event_id": f"h{i}", "type": "device.heartbeat", "occurred_at": "2026-11-29T10:00:00Z",
                 "source": "gw-1", "payload": {"i": i}}
                for i in range(5)
            ]
        }  # fmt: skip
        result = httpx.post(f"{server.url}/v1/events", json=batch, headers=headers).json()
        assert result["accepted"] == 5
        publisher = Publisher(MQTT_PORT, client_id=f"e2e-pub-{tag}")
        try:
            publisher.publish_all(
                (
                    f"e2e{tag}/acme/vm-{i % 2}/device.telemetry",
                    orjson.dumps({"event_id": f"m{i}", "occurred_at": "2026-11-29T10:01:00Z", "payload": {"t": i}}),
                )
                for i in range(5)
            )
        finally:
            publisher.close()
        deadline = time.monotonic() + 15
        listed: list[dict[str, object]] = []
        while time.monotonic() < deadline and len(listed) < 10:
            listed = httpx.get(f"{server.url}/v1/events", params={"limit": 100}, headers=headers).json()["events"]
            time.sleep(0.1)
        assert sorted((e["event_id"], e["transport"]) for e in listed) == sorted(
            [(f"h{i}", "http") for i in range(5)] + [(f"m{i}", "mqtt") for i in range(5)]
        )
        one = httpx.get(f"{server.url}/v1/events/m3", headers=headers).json()
        assert (one["source"], one["type"], one["payload"]) == ("vm-1", "device.telemetry", {"t": 3})
        while time.monotonic() < deadline:
            status = httpx.get(f"{server.url}/v1/device-status", headers=headers).json()["devices"]
            if sum(d["events_count"] for d in status) == 10:
                break
            time.sleep(0.1)
        assert {d["source"]: d["events_count"] for d in status} == {"gw-1": 5, "vm-0": 3, "vm-1": 2}
    finally:
        server.stop()
        forget_session(MQTT_PORT, f"e2e-{tag}")


def test_cli_import_and_tail(sqlite_deployment: Deployment, tmp_path: Path) -> None:
    lines = tmp_path / "events.jsonl"
    good = [
        orjson.dumps(
            {"event_id": f"f{i}", "type": "pos.sale", "occurred_at": "2026-11-29T10:00:00Z", "source": "pos-1"}
        )
        for i in range(25)
    ]
    lines.write_bytes(b"\n".join([*good, b"not json", good[0]]) + b"\n")
    totals = cli_json(sqlite_deployment.env, "events", "import", str(lines), "--tenant", "acme", "--batch", "10")
    assert totals == {"accepted": 25, "duplicates": 1, "rejected": 1, "dropped": 0}
    tailed = cli(sqlite_deployment.env, "events", "tail", "--tenant", "acme", "--no-follow", "--last", "3", "--json")
    assert [orjson.loads(line)["event_id"] for line in tailed.splitlines()] == ["f22", "f23", "f24"]
