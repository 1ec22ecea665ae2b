"""``tradeoff bench ingest``: three ingest paths, each next to its raw limit measured in the same run."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tradeoff.bench.http_load import post_batches
from tradeoff.bench.machine import machine_info
from tradeoff.bench.mqtt_client import DEFAULT_WINDOW
from tradeoff.bench.mqtt_paths import Broker, ingest_to_database, pubsub_loop
from tradeoff.bench.report import ExactlyOnce, Measurement, PathResult, bench_report, best_of, check_exactly_once
from tradeoff.bench.services import (
    postgres_database,
    postgres_version,
    prepare_database,
    private_mosquitto,
    sqlite_url,
    tradeoff_server,
)
from tradeoff.bench.storage import RAW_DESCRIPTION, raw_inserts, stored_events
from tradeoff.bench.workload import http_bodies, make_events, mqtt_messages, storage_rows
from tradeoff.core.clock import utcnow
from tradeoff.platform.mqtt import parse_mqtt_url

Progress = Callable[[str], None]
Trial = tuple[Measurement, Measurement, ExactlyOnce]  # path, raw limit, what was stored
PATHS = ("http_batch_sqlite", "http_batch_postgres", "mqtt_postgres")
TARGETS: dict[str, float | None] = {
    "http_batch_sqlite": 20_000,
    "http_batch_postgres": None,
    "mqtt_postgres": 10_000,
}
MQTT_RAW_DESCRIPTION = (
    "bare MQTT publish/subscribe loop: the same publisher and messages into a plain QoS 1 subscriber "
    "(paho, automatic PUBACK, no database) through the same broker"
)


@dataclass(frozen=True, slots=True)
class IngestOptions:
    http_events: int = 100_000
    mqtt_events: int = 50_000
    mqtt_paced_rate: float = 1000.0
    mqtt_paced_events: int = 5000
    batch: int = 1000
    concurrency: int = 4
    window: int = DEFAULT_WINDOW
    repeat: int = 2
    pg_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    mqtt_url: str = ""  # empty: start a private mosquitto
    paths: tuple[str, ...] = PATHS
    workers: int = 0  # 0: processors inside the server (as shipped); N: N `tradeoff worker` processes
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])


def run_ingest_bench(options: IngestOptions, progress: Progress) -> dict[str, Any]:
    unknown = set(options.paths) - set(PATHS)
    if unknown:
        raise ValueError(f"unknown path(s): {', '.join(sorted(unknown))}; known: {', '.join(PATHS)}")
    if options.repeat < 1:
        raise ValueError("--repeat must be at least 1")
    date = datetime.now().astimezone().isoformat(timespec="seconds")
    uses_pg = any(name.endswith("postgres") for name in options.paths)
    machine = machine_info(postgres_version=postgres_version(options.pg_url) if uses_pg else None)
    results = []
    with tempfile.TemporaryDirectory(prefix="tradeoff-bench-") as tmp:
        workdir = Path(tmp)
        for name in options.paths:
            run = _mqtt_postgres if name == "mqtt_postgres" else _http_batch
            results.append(run(name, options, workdir, progress))
    return bench_report(date=date, machine=machine, paths=results)


def _repeat(name: str, options: IngestOptions, progress: Progress, once: Callable[[int], Trial]) -> list[Trial]:
    trials = []
    for attempt in range(options.repeat):
        path, raw, stored = once(attempt)
        progress(f"{name}: {path.events_per_s:,.0f} events/s, raw limit {raw.events_per_s:,.0f} events/s")
        trials.append((path, raw, stored))
    return trials


def _result(name: str, trials: list[Trial], **fields: Any) -> PathResult:
    path, raw, stored = best_of(trials)
    runs = [(trial[0].events_per_s, trial[1].events_per_s) for trial in trials]
    return PathResult(
        name=name, path=path, raw=raw, exactly_once=stored, target_events_per_s=TARGETS[name], runs=runs, **fields
    )


def _database(name: str, options: IngestOptions, workdir: Path) -> AbstractContextManager[str]:
    if name == "http_batch_sqlite":
        return nullcontext(sqlite_url(workdir, f"{name}-{uuid.uuid4().hex[:8]}"))
    return postgres_database(options.pg_url)


def _topology(workers: int) -> str:
    if workers == 0:
        return "tradeoff serve: one process (the default), processors running inside it"
    return f"tradeoff serve (TRADEOFF_RUN_PROCESSORS=false) + {workers} tradeoff worker process(es) applying events"


def _storage(name: str) -> str:
    if name.endswith("sqlite"):
        return "SQLite, WAL, synchronous=FULL"
    return "PostgreSQL, synchronous_commit=on, fsync=on"


def _http_batch(name: str, options: IngestOptions, workdir: Path, progress: Progress) -> PathResult:
    def once(attempt: int) -> Trial:
        run = f"{options.run_id}-{name}-{attempt}"
        warm = make_events(f"{run}-warm", options.batch)
        sent = make_events(run, options.http_events)
        with _database(name, options, workdir) as raw_url:
            tenant = prepare_database(raw_url)
            now = utcnow()
            rows = storage_rows(sent, tenant_id=tenant.id, received_at=now, transport="http")
            warm_rows = storage_rows(warm, tenant_id=tenant.id, received_at=now, transport="http")
            raw = raw_inserts(raw_url, rows, options.batch, warmup=warm_rows)
        bodies = http_bodies(sent, options.batch)
        with _database(name, options, workdir) as url:
            tenant = prepare_database(url)
            with tradeoff_server(workdir, url, workers=options.workers) as base_url:
                post_batches(
                    base_url, tenant.api_key, http_bodies(warm, options.batch), events=len(warm), concurrency=1
                )
                path = post_batches(base_url, tenant.api_key, bodies, events=len(sent), concurrency=options.concurrency)
            stored = [event_id for event_id, _ in stored_events(url, tenant.id)]
        return path, raw, check_exactly_once([event["event_id"] for event in warm + sent], stored)

    trials = _repeat(name, options, progress, once)
    backend = "SQLite" if name.endswith("sqlite") else "PostgreSQL"
    return _result(
        name,
        trials,
        description=f"HTTP POST /v1/events batches → `tradeoff serve` → {backend}",
        raw_description=RAW_DESCRIPTION,
        settings={
            "batch": options.batch,
            "concurrency": options.concurrency,
            "repeat": options.repeat,
            "server": _topology(options.workers),
            "storage": _storage(name),
            "ack": "HTTP 200, sent after the batch is committed",
        },
    )


@contextmanager
def _broker(options: IngestOptions, workdir: Path) -> Iterator[Broker]:
    if options.mqtt_url:
        address = parse_mqtt_url(options.mqtt_url)
        yield Broker(address.host, address.port, f"broker at {address.host}:{address.port} (--mqtt-url)")
        return
    with private_mosquitto(workdir) as port:
        description = "private mosquitto: max_queued_messages 0, max_inflight_messages 0, persistence false"
        yield Broker("127.0.0.1", port, description)


def _mqtt_postgres(name: str, options: IngestOptions, workdir: Path, progress: Progress) -> PathResult:
    slug = f"bench-{options.run_id}"
    paced: list[Measurement] = []
    with _broker(options, workdir) as broker:

        def once(attempt: int) -> Trial:
            run = f"{options.run_id}-mqtt-{attempt}"
            sent = make_events(run, options.mqtt_events)
            warm = make_events(f"{run}-warm", min(options.batch, options.mqtt_events))
            steady = make_events(f"{run}-paced", options.mqtt_paced_events)
            raw_prefix, prefix = f"tbr{options.run_id}{attempt}", f"tbi{options.run_id}{attempt}"
            raw_messages = mqtt_messages(sent, prefix=raw_prefix, tenant_slug=slug)
            raw = pubsub_loop(broker, raw_messages, prefix=raw_prefix, window=options.window, workdir=workdir)
            with postgres_database(options.pg_url) as url:
                tenant = prepare_database(url, slug=slug)
                result = ingest_to_database(
                    broker,
                    url,
                    tenant,
                    mqtt_messages(sent, prefix=prefix, tenant_slug=slug),
                    warmup=mqtt_messages(warm, prefix=prefix, tenant_slug=slug),
                    paced=mqtt_messages(steady, prefix=prefix, tenant_slug=slug),
                    rate=options.mqtt_paced_rate,
                    prefix=prefix,
                    workers=options.workers,
                    window=options.window,
                    workdir=workdir,
                )
            paced.append(result.paced)
            stored = (event_id for event_id, _ in result.stored)
            expected = [event["event_id"] for event in warm + sent + steady]
            return result.measurement, raw, check_exactly_once(expected, stored)

        trials = _repeat(name, options, progress, once)
    return _result(
        name,
        trials,
        description="MQTT QoS 1 → the platform's MqttIngestor → PostgreSQL, PUBACK after commit",
        raw_description=MQTT_RAW_DESCRIPTION,
        paced=min(paced, key=lambda m: m.latency_ms(50)),
        paced_rate=options.mqtt_paced_rate,
        settings={
            "broker": broker.description,
            "qos": 1,
            "publisher_window": options.window,
            "server": _topology(options.workers),
            "repeat": options.repeat,
            "ack_latency": "publish → commit of the transaction that stored the event (saturated: "
            "every message published at once, so it includes the backlog; paced: at a steady rate)",
            "storage": _storage(name),
        },
    )
