"""The simulator against a real ``tradeoff serve`` (SQLite) and the real Mosquitto."""

import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.mqtt import forget_session
from tests.support.server import TRADEOFF, ServerProcess, cli
from tests.support.services import MQTT_HOST, MQTT_PORT, free_port, need
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.sim.seed import seed_world
from tradeoff.sim.session import SimOptions, build_simulator
from tradeoff.sim.world import demo_world

MQTT_URL = f"mqtt://{MQTT_HOST}:{MQTT_PORT}"


@dataclass
class Running:
    url: str
    database_url: str
    prefix: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    need("Mosquitto", MQTT_HOST, MQTT_PORT)
    tmp = tmp_path_factory.mktemp("sim")
    tag = uuid.uuid4().hex[:10]
    env = {
        "TRADEOFF_DATABASE_URL": f"sqlite:///{tmp}/t.db",
        "TRADEOFF_MQTT_URL": MQTT_URL,
        "TRADEOFF_MQTT_CLIENT_ID": f"test-sim-ingest-{tag}",  # our own broker session
        "TRADEOFF_MQTT_TOPIC_PREFIX": f"test{tag}",  # and our own topics
        "TRADEOFF_VAR_DIR": str(tmp / "var"),
        "TRADEOFF_PROCESSOR_POLL_SECONDS": "0.2",
    }
    upgrade(env["TRADEOFF_DATABASE_URL"])
    process = ServerProcess(env, tmp / "server.log")
    process.start()
    try:
        yield Running(process.url, env["TRADEOFF_DATABASE_URL"], env["TRADEOFF_MQTT_TOPIC_PREFIX"])
    finally:
        process.stop()
        forget_session(MQTT_PORT, env["TRADEOFF_MQTT_CLIENT_ID"])


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def all_events(url: str, key: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        while True:
            page = client.get("/v1/events", params={"after_seq": after, "limit": 1000}).json()
            found += page["events"]
            if not page["events"]:
                return found
            after = page["next_after_seq"]


def get(url: str, path: str, key: str) -> Any:
    response = httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.mqtt
def test_simulator_feeds_the_platform_over_http_and_mqtt(server: Running) -> None:
    world = demo_world("sim-lib")
    engine = make_engine(server.database_url)
    try:
        with engine.begin() as conn:
            credentials = seed_world(conn, world)
    finally:
        engine.dispose()
    assert credentials.admin_key is not None
    options = SimOptions(
        speed=120, seed=3, step_seconds=0.5, topic_prefix=server.prefix, generators=("heartbeat", "telemetry")
    )
    simulator = build_simulator(world, credentials, base_url=server.url, mqtt_url=MQTT_URL, options=options)
    try:
        summary = simulator.run(duration=3)  # six simulated minutes
    finally:
        simulator.close()
    delivery = simulator.summary()["delivery"]
    for transport in ("http", "mqtt"):
        assert delivery[transport]["delivered"] > 0, delivery
        assert delivery[transport]["failed"] == delivery[transport]["rejected"] == 0, delivery
    sent = summary["events"]
    assert sent > 13 * 10  # every device reported a heartbeat every 30 simulated seconds

    wait_for(lambda: len(all_events(server.url, credentials.admin_key or "")) >= sent)
    events = all_events(server.url, credentials.admin_key)
    assert len(events) == sent
    assert {e["transport"] for e in events} == {"http", "mqtt"}
    for event in events:
        assert event["transport"] == simulator.transport_for(event["source"]), event
    assert {e["type"] for e in events} == {"device.heartbeat", "device.telemetry"}

    devices = {d.external_id for d in world.devices}

    def all_devices_listed() -> bool:
        status = get(server.url, "/v1/device-status", credentials.admin_key or "")["devices"]
        return {s["source"] for s in status} == devices

    wait_for(all_devices_listed)
    status = get(server.url, "/v1/device-status", credentials.admin_key)["devices"]
    assert sum(s["events_count"] for s in status) == sent
    assert all(s["last_telemetry"] for s in status)


@pytest.mark.mqtt
def test_simulate_command_with_an_admin_key(server: Running) -> None:
    engine = make_engine(server.database_url)
    try:
        with engine.begin() as conn:
            tenant = tenancy.create_tenant(conn, slug="sim-cli", name="CLI shop")
            admin = create_api_key(conn, tenant_id=tenant.id, role=Role.ADMIN, name="test").secret
    finally:
        engine.dispose()
    out = cli(
        {"TRADEOFF_MQTT_TOPIC_PREFIX": server.prefix},
        "simulate",
        "--url", server.url,
        "--api-key", admin,
        "--tenant", "sim-cli",
        "--mqtt-url", MQTT_URL,
        "--speed", "300",
        "--duration", "2",
        "--seed", "5",
        "--json",
    )  # fmt: skip
    summary = json.loads(out)
    assert summary["tenant"] == "sim-cli" and summary["seed"] == 5
    assert set(summary["sent"]) == {"http", "mqtt"}
    assert summary["delivery"]["http"]["delivered"] == sum(summary["sent"]["http"].values())
    assert summary["delivery"]["mqtt"]["delivered"] == sum(summary["sent"]["mqtt"].values())

    wait_for(lambda: len(all_events(server.url, admin)) >= summary["events"])
    assert {e["transport"] for e in all_events(server.url, admin)} == {"http", "mqtt"}
    devices = get(server.url, "/v1/devices", admin)["devices"]
    assert len(devices) == len(demo_world().devices)  # created through the API
    sites = get(server.url, "/v1/sites", admin)["sites"]
    assert any(site["floor_plan"].get("zones") for site in sites)
    run_keys = [k for k in get(server.url, "/v1/keys", admin)["keys"] if k["name"].startswith("sim:")]
    assert run_keys and all(k["revoked_at"] for k in run_keys)  # this run's device keys are revoked


def test_simulate_reports_an_unreachable_platform() -> None:
    with pytest.raises(RuntimeError, match="cannot prepare"):
        cli({}, "simulate", "--url", f"http://127.0.0.1:{free_port()}", "--api-key", "tk_x_y", "--duration", "1")


@pytest.mark.slow
def test_demo_prints_the_banner_feeds_events_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEOFF_")}
    env |= {
        "TRADEOFF_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
        "TRADEOFF_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
    }
    proc = subprocess.Popen(
        [TRADEOFF, "demo", "--port", str(port), "--speed", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner: list[str] = []
        deadline = time.monotonic() + 30
        while not any(line.startswith("try: curl") for line in banner):
            line = proc.stdout.readline()
            assert line and time.monotonic() < deadline, "".join(banner)
            banner.append(line)
        text = "".join(banner)
        assert f"http://127.0.0.1:{port}/" in text and f"http://127.0.0.1:{port}/docs" in text
        assert "demo / demo-password" in text
        match = re.search(r"tk_[A-Za-z0-9_-]+", banner[-1])
        assert match is not None
        url, key = f"http://127.0.0.1:{port}", match.group(0)
        wait_for(lambda: len(all_events(url, key)) > 13)
        assert get(url, "/v1/tenant", key)["slug"] == "demo"
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0
        assert "stopping" in rest and "the simulator sent" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
