"""DEX audits through the real pipeline with the privacy gate on: HTTP upload, MQTT and ``import-dex``.

Every path stores one ``vending.dex_audit`` event per audit whose payload is the parser's JSON unchanged
(plus the digest and size), treats a re-upload as a duplicate and dead-letters what is not DEX.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from tests.support.mqtt import Publisher, forget_session
from tests.support.services import MQTT_PORT, need
from tests.unit.vending.dex.samples import KIKKO_70, all_samples, sample
from tradeoff.cli import vending_dex
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.platform.eventlog import read_events
from tradeoff.platform.http.app import create_app
from tradeoff.platform.mqtt import MqttIngestor
from tradeoff.platform.settings import Settings
from tradeoff.vending.dex import parse_dex
from tradeoff.vending.dex.decoder import register_decoders
from tradeoff.vending.dex.writer import AuditInput, ColumnInput, write_dex

cli_app = typer.Typer()
vending_dex.register(cli_app)
GARBAGE = b"<html><body>502 Bad Gateway</body></html>\r\n"


def settings_for(database_url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        database_url=database_url,
        var_dir=tmp_path,
        keyring_path=tmp_path / "keys" / "keyring.json",
        run_processors=False,
        **extra,
    )


def with_dex(platform: Platform) -> Platform:
    """The vending capability registers the decoder once it is wired; until then the test does."""
    if not platform.decoders.has("dex"):
        register_decoders(platform.decoders)
    return platform


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def stored_payloads(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [event.payload for event in read_events(conn, after_seq=0, limit=100)]


def assert_payload_is_the_parse(payload: dict[str, Any], raw: bytes) -> None:
    """The privacy gate passed the audit through without changing any of its data."""
    expected = parse_dex(raw).to_json()
    assert {key: value for key, value in payload.items() if key not in ("sha256", "size_bytes")} == orjson.loads(
        orjson.dumps(expected)
    )
    assert payload["size_bytes"] == len(raw)


@pytest.fixture
def tenant_id(engine: Engine) -> str:
    with engine.begin() as conn:
        return tenancy.create_tenant(conn, slug="acme", name="Acme").id


@pytest.fixture
def http(engine: Engine, database_url: str, tmp_path: Path, tenant_id: str) -> Iterator[tuple[TestClient, str]]:
    with engine.begin() as conn:
        device = tenancy.create_device(conn, tenant_id=tenant_id, external_id="vm-1", kind="vending_machine")
        key = create_api_key(conn, tenant_id=tenant_id, role=Role.DEVICE, name="vm", device_id=device.id).secret
    platform = with_dex(build_platform(settings_for(database_url, tmp_path)))
    try:
        with TestClient(create_app(platform=platform)) as client:
            yield client, key
    finally:
        platform.close()


def test_http_upload_stores_each_sample_once_with_the_gate_on(http: tuple[TestClient, str], engine: Engine) -> None:
    client, key = http
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"}
    raws = [path.read_bytes() for path in all_samples()]
    for raw in raws:
        response = client.post("/v1/events?format=dex", content=raw, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == 1
    again = client.post("/v1/events?format=dex", content=sample(KIKKO_70), headers=headers)
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    bad = client.post("/v1/events?format=dex", content=GARBAGE, headers=headers)
    assert bad.status_code == 422
    assert "not a DEX audit: line 1" in bad.json()["error"]["message"]

    assert count(engine, events) == len(raws)
    with engine.connect() as conn:
        stored = read_events(conn, after_seq=0, limit=100)
        [letter] = conn.execute(select(dead_letters)).all()
    assert {event.type for event in stored} == {"vending.dex_audit"}
    assert {event.source for event in stored} == {"vm-1"}
    for event, raw in zip(stored, raws, strict=True):
        assert_payload_is_the_parse(event.payload, raw)
    assert letter.reason_code == "undecodable" and letter.raw == GARBAGE


def test_simulated_machine_audit_round_trips_through_http(http: tuple[TestClient, str], engine: Engine) -> None:
    from datetime import datetime

    client, key = http
    raw = write_dex(
        AuditInput(
            serial="4111111111111111",  # a serial shaped like a card number is scrubbed, as any PAN would be
            read_at=datetime(2026, 11, 29, 9, 0),
            read_counter=3,
            columns=(ColumnInput("A1", 150, 10, 1500, "Cola"),),
        )
    )
    response = client.post("/v1/events?format=dex", content=raw, headers={"Authorization": f"Bearer {key}"})
    assert response.json()["accepted"] == 1
    [payload] = stored_payloads(engine)
    assert payload["machine"]["serial"] == "[PAN REMOVED]"
    assert payload["columns"][0]["vends_total"] == 10 and payload["checksum"]["valid"] is True


@pytest.mark.mqtt
def test_mqtt_dex_topic_stores_audits_once(engine: Engine, database_url: str, tmp_path: Path, tenant_id: str) -> None:
    need("Mosquitto", "127.0.0.1", MQTT_PORT)
    tag = uuid.uuid4().hex[:10]
    settings = settings_for(
        database_url,
        tmp_path,
        mqtt_url=f"mqtt://127.0.0.1:{MQTT_PORT}",
        mqtt_client_id=f"test-dex-{tag}",
        mqtt_topic_prefix=f"test{tag}",
    )
    platform = with_dex(build_platform(settings))
    platform.start()
    try:
        assert isinstance(platform.mqtt, MqttIngestor) and platform.mqtt.wait_connected(10)
        topic = f"{settings.mqtt_topic_prefix}/acme/vm-9/dex"
        publisher = Publisher(MQTT_PORT, client_id=f"pub-{tag}")
        try:
            publisher.publish_all(
                [(topic, sample(KIKKO_70)), (topic, sample("sample.txt")), (topic, sample(KIKKO_70)), (topic, GARBAGE)]
            )
        finally:
            publisher.close()
        wait_for(lambda: count(engine, events) >= 2 and count(engine, dead_letters) >= 1)
        time.sleep(0.3)
    finally:
        platform.close()
        forget_session(MQTT_PORT, settings.mqtt_client_id)
    with engine.connect() as conn:
        stored = read_events(conn, after_seq=0, limit=10)
    assert [(event.type, event.source, event.transport) for event in stored] == [
        ("vending.dex_audit", "vm-9", "mqtt")
    ] * 2
    assert count(engine, dead_letters) == 1
    assert_payload_is_the_parse(stored[0].payload, sample(KIKKO_70))


def test_import_dex_cli_ingests_a_folder_and_reports_duplicates(
    engine: Engine, database_url: str, tmp_path: Path, tenant_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "audits"
    for path in all_samples():
        target = folder / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    (folder / "notes.txt").write_bytes(GARBAGE)
    monkeypatch.setenv("TRADEOFF_DATABASE_URL", database_url)
    monkeypatch.setenv("TRADEOFF_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TRADEOFF_KEYRING_PATH", str(tmp_path / "keys" / "keyring.json"))
    monkeypatch.setenv("TRADEOFF_MQTT_URL", "mqtt://127.0.0.1:1")  # ignored: the import needs no broker
    args = ["import-dex", str(folder), "--tenant", "acme", "--json"]

    first = CliRunner().invoke(cli_app, args)
    assert first.exit_code == 0, first.output
    report = orjson.loads(first.stdout)
    samples = len(all_samples())
    assert {k: report[k] for k in ("files", "accepted", "duplicates", "rejected")} == {
        "files": samples + 1,
        "accepted": samples,
        "duplicates": 0,
        "rejected": 1,
    }
    assert report["rejections"][0]["file"] == "notes.txt"
    assert "not a DEX audit" in report["rejections"][0]["reason"]

    second = orjson.loads(CliRunner().invoke(cli_app, args).stdout)
    assert (second["accepted"], second["duplicates"]) == (0, samples)
    with engine.connect() as conn:
        sources = {event.source for event in read_events(conn, after_seq=0, limit=100)}
    assert "dex-NEC01190360" in sources and "dex-FAG11743" in sources


def test_import_dex_unknown_tenant_exits_1(
    database_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEOFF_DATABASE_URL", database_url)
    monkeypatch.setenv("TRADEOFF_KEYRING_PATH", str(tmp_path / "keys" / "keyring.json"))
    result = CliRunner().invoke(cli_app, ["import-dex", str(tmp_path), "--tenant", "nobody"])
    assert result.exit_code == 1 and "nobody" in result.output


def wait_for(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
