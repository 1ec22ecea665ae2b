"""store-visitors over the real Mosquitto into a platform with the ESPresense decoder: a short accelerated
run is stored as sightings, anonymous phones only as keyed tokens (never their MACs), nothing is
dead-lettered, and the broker is never flooded (messages per step are capped)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select

from tests.support.mqtt import forget_session
from tests.support.services import MQTT_PORT, need
from tradeoff.platform import tenancy
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.platform.mqtt import MqttIngestor
from tradeoff.platform.settings import Settings
from tradeoff.presence.sim import StoreVisitors, VisitorConfig
from tradeoff.sim.base import GeneratorContext
from tradeoff.sim.clock import SimClock
from tradeoff.sim.mqtt_sender import MqttSender
from tradeoff.sim.runner import Simulator
from tradeoff.sim.world import demo_world

pytestmark = pytest.mark.mqtt
START = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # a Friday, 17:00 in Berlin
MAC = re.compile(r"^[0-9a-f]{12}$")


@pytest.fixture
def platform(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Platform]:
    need("Mosquitto", "127.0.0.1", MQTT_PORT)
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        database_url=database_url,
        mqtt_url=f"mqtt://127.0.0.1:{MQTT_PORT}",
        mqtt_client_id=f"test-presence-sim-{tag}",
        mqtt_topic_prefix=f"test{tag}",
        var_dir=tmp_path,
        keyring_path=tmp_path / "keys" / "keyring.json",
    )
    with engine.begin() as conn:
        tenancy.create_tenant(conn, slug="demo", name="Demo Grocer")
    the_platform = build_platform(settings)  # the presence capability registers the gateway decoders
    the_platform.start()
    assert isinstance(the_platform.mqtt, MqttIngestor) and the_platform.mqtt.wait_connected(10)
    yield the_platform
    the_platform.close()
    forget_session(MQTT_PORT, settings.mqtt_client_id)


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_an_accelerated_run_is_stored_as_tokenized_sightings(platform: Platform, engine: Engine) -> None:
    ctx = GeneratorContext(world=demo_world("demo"), start=START, seed=11, run_id=uuid.uuid4().hex[:8])
    visitors = StoreVisitors(ctx, VisitorConfig(max_messages_per_step=35))
    sender = MqttSender(
        f"mqtt://127.0.0.1:{MQTT_PORT}", tenant_slug="demo", topic_prefix=platform.settings.mqtt_topic_prefix
    )
    simulator = Simulator(
        clock=SimClock(start=START, speed=60), generators=[visitors], senders={"mqtt": sender}, default_transport="mqtt"
    )
    try:
        summary = simulator.run(duration=2.5)
    finally:
        simulator.close()
    messages = visitors.stats["messages"]
    assert 0 < messages <= 35 * (simulator.steps + 1)
    assert summary["delivery"]["mqtt"]["delivered"] == messages and summary["delivery"]["mqtt"]["unrouted"] == 0
    readings = visitors.stats["readings"]
    deadline = time.monotonic() + 60
    while count(engine, events) < readings * 0.98 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert count(engine, dead_letters) == 0
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.type, events.c.source, events.c.transport, events.c.payload)).all()
    assert readings * 0.98 <= len(rows) <= readings  # identical readings in one 10 s window are one event
    assert {row.type for row in rows} == {"presence.sighting"} and {row.transport for row in rows} == {"mqtt"}
    assert {row.source for row in rows} <= {d.external_id for d in ctx.world.devices_of("gateway")}
    devices = [row.payload["identity"] for row in rows if row.payload["identity"]["kind"] == "device"]
    beacons = [row.payload["identity"] for row in rows if row.payload["identity"]["kind"] == "ibeacon"]
    assert devices and beacons
    assert {row.payload["room"] for row in rows} <= {zone.name for zone in visitors.plan.zones}
    tokens = {identity.get("device_mac") or identity.get("device_id") for identity in devices}
    assert all(isinstance(token, str) and not MAC.match(token) for token in tokens)
    dump = orjson.dumps([row.payload for row in rows]).decode()
    planted = visitors.planted.as_dict()["mac"]
    assert planted and not [mac for mac in planted if mac in dump]
