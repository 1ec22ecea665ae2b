"""MQTT → PostgreSQL through the platform's ingestor, and the bare publish/subscribe loop beside it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from tradeoff.bench.mqtt_client import WindowedPublisher, discard_session
from tradeoff.bench.report import Measurement, measure_deliveries
from tradeoff.bench.services import (
    BenchError,
    BenchTenant,
    free_port,
    managed_process,
    platform_env,
    processor_workers,
    split_topology,
)
from tradeoff.bench.stats import commit_times
from tradeoff.bench.storage import stored_events, wait_for_events
from tradeoff.bench.workload import MqttMessage, index_of


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    description: str


def pubsub_loop(broker: Broker, messages: list[MqttMessage], *, prefix: str, window: int, workdir: Path) -> Measurement:
    """The raw limit: the same publisher into a plain QoS 1 subscriber (auto PUBACK, no database)."""
    out, ready = workdir / f"{prefix}-sink.json", workdir / f"{prefix}-sink.ready"
    args = [sys.executable, "-m", "tradeoff.bench.mqtt_sink", broker.host, str(broker.port)]
    args += [f"{prefix}/+/+/+", str(len(messages)), str(out), str(ready)]
    with managed_process(args, log_path=workdir / f"{prefix}-sink.log", ready=lambda _proc: ready.exists()) as proc:
        with WindowedPublisher(broker.host, broker.port, window=window) as publisher:
            sent = publisher.publish_all(messages)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.terminate()  # it still writes what it received
            proc.wait(timeout=20)
    received = orjson.loads(out.read_bytes())
    return measure_deliveries(sent, [(when, index) for when, index in received])


def _ready(port: int) -> bool:
    """``/readyz`` answers 200 once the database answers and the MQTT transport is connected."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def json_event_id(message: MqttMessage) -> str:
    return str(orjson.loads(message.payload)["event_id"])


@dataclass(frozen=True, slots=True)
class IngestRun:
    measurement: Measurement  # as fast as the broker takes them
    paced: Measurement  # at a steady rate well below capacity: latency without a backlog
    stored: list[tuple[str, int]]


def ingest_to_database(
    broker: Broker,
    database_url: str,
    tenant: BenchTenant,
    messages: list[MqttMessage],
    *,
    warmup: list[MqttMessage],
    paced: list[MqttMessage],
    rate: float,
    prefix: str,
    window: int,
    workdir: Path,
    workers: int = 0,
) -> IngestRun:
    """Publish into the platform's MQTT ingestor; latency is publish → the commit that made it durable."""
    client_id = f"tradeoff-bench-ingest-{uuid.uuid4().hex[:8]}"
    commits, port = workdir / f"{prefix}-commits.json", free_port()
    log_path = workdir / f"{prefix}-server.log"
    env = platform_env(
        workdir,
        database_url,
        mqtt_url=f"mqtt://{broker.host}:{broker.port}",
        mqtt_client_id=client_id,
        mqtt_topic_prefix=prefix,
        **split_topology(workers),
    )
    args = [sys.executable, "-m", "tradeoff.bench.mqtt_worker", str(commits), str(port)]
    try:
        with (
            processor_workers(workdir, database_url, workers),
            managed_process(args, log_path=log_path, ready=lambda _proc: _ready(port), env=env),
        ):
            with WindowedPublisher(broker.host, broker.port, window=window) as publisher:
                publisher.publish_all(warmup)
                if wait_for_events(database_url, len(warmup)) != len(warmup):
                    raise BenchError(f"the warm-up was not stored; see {log_path}")
                sent = publisher.publish_all(messages)
                wait_for_events(database_url, len(warmup) + len(messages))
                sent_paced = publisher.publish_all(paced, rate=rate)
            wait_for_events(database_url, len(warmup) + len(messages) + len(paced))
    finally:
        discard_session(broker.host, broker.port, client_id)
    if not commits.exists():
        raise BenchError("the MQTT ingest worker did not record its commits")
    log = [(float(when), int(top)) for when, top in orjson.loads(commits.read_bytes())]
    stored = stored_events(database_url, tenant.id)
    saturated = _durable(log, stored, messages, sent)
    return IngestRun(saturated, _durable(log, stored, paced, sent_paced), stored)


def _durable(
    log: list[tuple[float, int]], stored: list[tuple[str, int]], messages: list[MqttMessage], sent: list[float]
) -> Measurement:
    """Publish → commit for the stored events among ``messages``, timed by the commit log."""
    wanted = {json_event_id(message) for message in messages}
    mine = [(event_id, seq) for event_id, seq in stored if event_id in wanted]
    if not mine:
        raise BenchError("none of the published events was stored")
    durable = commit_times(log, [seq for _, seq in mine])
    first = index_of(json_event_id(messages[0]))  # send times are indexed from the first message
    deliveries = [(when, index_of(event_id) - first) for when, (event_id, _) in zip(durable, mine, strict=True)]
    return measure_deliveries(sent, deliveries)
