"""The breach drill on a database the simulator's privacy probe filled: card numbers, CVVs, track data,
e-mails, phones, MACs, device ids and names went in raw — over HTTP, MQTT and the shopper app, valid and
broken — and the dump, the logs and a backup hold none of them. A planted PAN written into a log is found."""

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from tests.support.mqtt import Publisher, forget_session
from tests.support.server import TRADEOFF, ServerProcess, cli
from tests.support.services import MQTT_HOST, MQTT_PORT, need, postgres_database
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.privacy.subjects.store import subjects
from tradeoff.sim.probe import PROBE, PrivacyProbe, attach_probe
from tradeoff.sim.runner import Simulator
from tradeoff.sim.seed import Credentials, seed_world
from tradeoff.sim.session import SimOptions, build_simulator
from tradeoff.sim.world import demo_world

pytestmark = [pytest.mark.slow, pytest.mark.mqtt]

MQTT_URL = f"mqtt://{MQTT_HOST}:{MQTT_PORT}"
PLANTED_KINDS = ("pan", "track", "sad", "name", "email", "phone", "mac", "device_id")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tradeoff.db'}"
    else:
        with postgres_database() as url:
            yield url


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def drill(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [TRADEOFF, "privacy", "breach-drill", "--json", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


def run_probe(world_slug: str, credentials: Credentials, url: str, prefix: str, var: Path) -> Simulator:
    options = SimOptions(
        speed=120, seed=11, step_seconds=0.5, topic_prefix=prefix, generators=("heartbeat", "telemetry", PROBE)
    )
    simulator = build_simulator(demo_world(world_slug), credentials, base_url=url, mqtt_url=MQTT_URL, options=options)
    probe = attach_probe(
        simulator, credentials, base_url=url, planted_path=var / "sim" / "planted.json", mqtt_url=MQTT_URL,
        topic_prefix=prefix,
    )  # fmt: skip
    assert probe is not None
    try:
        simulator.run(duration=4)  # eight simulated minutes: every shopper makes a whole visit
    finally:
        simulator.close()
        probe.close()
    return simulator


def backup(database_url: str, env: dict[str, str], var: Path) -> Path:
    folder = var / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        target = folder / "tradeoff-backup.db"
        shutil.copyfile(path, target)
        return target
    target = folder / "tradeoff-backup.sql"
    libpq = database_url.replace("postgresql+psycopg://", "postgresql://")
    subprocess.run(["pg_dump", "--no-owner", "-f", str(target), libpq], check=True, timeout=120, env=os.environ)
    return target


def test_breach_drill_finds_nothing_the_privacy_probe_planted(database_url: str, tmp_path: Path) -> None:
    need("Mosquitto", MQTT_HOST, MQTT_PORT)
    tag = uuid.uuid4().hex[:10]
    var = tmp_path / "var"
    env = {
        "TRADEOFF_DATABASE_URL": database_url,
        "TRADEOFF_VAR_DIR": str(var),
        "TRADEOFF_KEYRING_PATH": str(tmp_path / "keys" / "keyring.json"),
        "TRADEOFF_MQTT_URL": MQTT_URL,
        "TRADEOFF_MQTT_CLIENT_ID": f"test-drill-{tag}",
        "TRADEOFF_MQTT_TOPIC_PREFIX": f"drill{tag}",
        "TRADEOFF_PROCESSOR_POLL_SECONDS": "0.2",
    }
    cli(env, "migrate")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        credentials = seed_world(conn, demo_world("probe"))

    def count(table: Any, *where: Any) -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

    server = ServerProcess(env, tmp_path / "server.log")
    server.start()
    try:
        simulator = run_probe("probe", credentials, server.url, env["TRADEOFF_MQTT_TOPIC_PREFIX"], var)
        probe = next(g for g in simulator.generators if isinstance(g, PrivacyProbe))
        sent_mqtt = sum(n for (transport, _type), n in simulator.counts().items() if transport == "mqtt")
        broken_mqtt = 1 if simulator.transport_for(probe.machines[0]) == "mqtt" else 0
        # The MQTT ingestor commits after the broker acknowledged the simulator: wait for every message.
        expected = sent_mqtt - broken_mqtt
        try:
            wait_for(lambda: count(events, events.c.transport == "mqtt") == expected)
        except AssertionError:
            raise AssertionError(f"{count(events, events.c.transport == 'mqtt')} of {expected} MQTT events") from None
        wait_for(lambda: count(dead_letters) >= 5 + ("mqtt_not_json" not in probe.skipped))
    finally:
        server.stop()  # flushes and closes the logs; SQLite checkpoints its WAL
        forget_session(MQTT_PORT, env["TRADEOFF_MQTT_CLIENT_ID"])

    # Not vacuous: the shoppers' events, consent decisions and broken messages all reached the database.
    stats = probe.stats
    assert stats["enrolled"] == 7 and stats["consent_changes"] == 2, stats
    assert stats["app_accepted"] > 0 and stats["app_dropped"] > 0 and stats["app_rejected"] == 1, stats
    junk_over_mqtt = "mqtt_not_json" not in probe.skipped
    assert stats["raw_http_sent"] == 1 and stats["raw_mqtt_sent"] == 1 + junk_over_mqtt, stats
    by_type = {t: count(events, events.c.type == t) for t in ("presence.sighting", "presence.zone_enter",
               "offers.feedback", "pos.transaction", "vending.sale", "pos.basket.linked")}  # fmt: skip
    assert by_type["presence.sighting"] >= 18 and all(by_type.values()), by_type
    assert count(events, events.c.transport == "http") > 0 and count(events, events.c.transport == "mqtt") > 0
    assert count(subjects) == 7
    assert count(dead_letters, dead_letters.c.transport == "mqtt") >= 2 + junk_over_mqtt
    assert count(dead_letters, dead_letters.c.transport == "http") >= 3
    assert count(dead_letters, dead_letters.c.tenant_id.is_(None)) == 1  # the unknown tenant's message
    with engine.connect() as conn:
        stored = " ".join(orjson.dumps(payload).decode() for payload in conn.scalars(select(events.c.payload)))
    engine.dispose()
    for marker in ("[PAN REMOVED]", "[TRACK DATA REMOVED]", '"ps_', '"pd_', "tok_email_", "tok_device_",
                   "tokd_mac_", "tok_name_", "tokd_name_", "tokd_free_text_", "tok_card_fingerprint_"):  # fmt: skip
        assert marker in stored, marker  # scrubbed, pseudonymized and tokenized, not dropped
    planted = json.loads((var / "sim" / "planted.json").read_text())
    assert all(planted.get(kind) for kind in PLANTED_KINDS), sorted(planted)
    assert len(planted["pan"]) >= 9 and len(planted["name"]) >= 9
    copy = backup(database_url, env, var)

    logs = ("--logs", str(var / "log"), "--logs", str(tmp_path / "server.log"))
    status, report = drill(env, *logs)
    leaks = {kind: n for kind, n in report.items() if isinstance(n, int) and not isinstance(n, bool) and n}
    assert status == 0 and report["clean"] and not leaks, json.dumps(report["findings"], indent=1)
    assert set(PLANTED_KINDS) <= set(report)  # the planted kinds were counted (as zero)
    assert str(copy) in report["artifacts"] and any("tradeoff.log" in a for a in report["artifacts"])

    # The negative control: one planted card number written raw into a log is found.
    (var / "log" / "leak.log").write_text(f"charging card {planted['pan'][0]} now\n")
    status, report = drill(env, *logs)
    assert status == 1 and not report["clean"] and report["pan"] >= 1, report


def test_a_lone_non_json_mqtt_message_is_dead_lettered_once_and_ingestion_goes_on(tmp_path: Path) -> None:
    need("Mosquitto", MQTT_HOST, MQTT_PORT)
    tag = uuid.uuid4().hex[:10]
    database_url = f"sqlite:///{tmp_path / 'tradeoff.db'}"
    env = {
        "TRADEOFF_DATABASE_URL": database_url,
        "TRADEOFF_VAR_DIR": str(tmp_path / "var"),
        "TRADEOFF_KEYRING_PATH": str(tmp_path / "keys" / "keyring.json"),
        "TRADEOFF_MQTT_URL": MQTT_URL,
        "TRADEOFF_MQTT_CLIENT_ID": f"test-poison-{tag}",
        "TRADEOFF_MQTT_TOPIC_PREFIX": f"poison{tag}",
    }
    cli(env, "migrate")
    cli(env, "tenants", "create", "acme", "--name", "Acme")
    engine = make_engine(database_url)
    server = ServerProcess(env, tmp_path / "server.log")
    server.start()
    publisher = Publisher(MQTT_PORT, client_id=f"test-poison-pub-{tag}")
    try:
        topic = f"poison{tag}/acme/vm-1/vending.receipt"
        publisher.publish_all([(topic, b"RECEIPT ann@example.org")])
        time.sleep(1.5)  # alone in the ingestor's batch
        envelope = {"event_id": "after-1", "occurred_at": "2026-11-29T10:00:00Z", "payload": {"ok": True}}
        publisher.publish_all([(f"poison{tag}/acme/vm-1/device.heartbeat", orjson.dumps(envelope))])

        def count(table: Any) -> int:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

        wait_for(lambda: count(events) == 1, timeout=10)
        assert count(dead_letters) == 1
    finally:
        publisher.close()
        server.stop()
        forget_session(MQTT_PORT, env["TRADEOFF_MQTT_CLIENT_ID"])
        engine.dispose()
