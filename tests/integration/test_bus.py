"""Processors see every committed event exactly once, across failures and restarts."""

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import Column, Connection, Engine, Integer, MetaData, String, Table, delete, func, insert, select

from tradeoff.core.events import Event
from tradeoff.platform import tenancy
from tradeoff.platform.bus import InProcessBus, ProcessorRunner
from tradeoff.platform.db.tables import events, parked_events, processor_checkpoints
from tradeoff.platform.device_state import DeviceStateProcessor, list_device_status
from tradeoff.platform.eventlog import append_events, lock_appends, read_events
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
effects_meta = MetaData()
effects = Table("test_effects", effects_meta, Column("event_id", String(128)), Column("n", Integer))


class Recorder:
    """A processor whose effect is a row per event; can be told to fail."""

    name = "recorder"
    event_types: frozenset[str] | None = frozenset({"device.heartbeat"})

    def __init__(self, fail_on: set[str] | None = None, fail_times: int = 10**9) -> None:
        self.fail_on = fail_on or set()
        self.fail_times = fail_times
        self.calls = 0

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        for event in events:  # effects written one by one, so a late failure must roll earlier ones back
            if event.event_id in self.fail_on and self.fail_times > 0:
                self.fail_times -= 1
                raise RuntimeError(f"cannot handle {event.event_id}")
            conn.execute(insert(effects).values(event_id=event.event_id, n=1))
        self.calls += 1


@pytest.fixture
def setup(engine: Engine) -> tuple[IngestPipeline, str]:
    effects_meta.create_all(engine)
    with engine.begin() as conn:
        tenant_id = tenancy.create_tenant(conn, slug="acme", name="Acme").id
    return IngestPipeline(engine=engine, decoders=default_registry(1000)), tenant_id


def send(pipeline: IngestPipeline, tenant_id: str, ids: list[str], type_: str = "device.heartbeat") -> None:
    items: list[dict[str, Any]] = [
        {"event_id": i, "type": type_, "occurred_at": "2026-11-29T11:00:00Z", "source": "gw-1"} for i in ids
    ]
    body = orjson.dumps({"events": items})
    pipeline.ingest(RawMessage(body=body, transport="http", tenant_id=tenant_id, received_at=NOW), decoder="json-batch")


def effect_ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(effects.c.event_id).order_by(effects.c.event_id)))


def test_resume_after_restart_applies_each_event_once(engine: Engine, setup: tuple[IngestPipeline, str]) -> None:
    pipeline, tenant_id = setup
    send(pipeline, tenant_id, [f"e{i:03}" for i in range(30)])
    send(pipeline, tenant_id, ["other-type"], type_="device.telemetry")
    first = ProcessorRunner(engine, Recorder(), batch_size=7)
    first.run_once()
    first.run_once()
    restarted = ProcessorRunner(engine, Recorder(), batch_size=7)  # a new process: state only in the DB
    while restarted.run_once():
        pass
    assert effect_ids(engine) == [f"e{i:03}" for i in range(30)]
    assert restarted.lag() == 0


def test_failed_batch_rolls_back_effects_and_checkpoint(engine: Engine, setup: tuple[IngestPipeline, str]) -> None:
    pipeline, tenant_id = setup
    send(pipeline, tenant_id, ["a", "b", "c"])
    runner = ProcessorRunner(engine, Recorder(fail_on={"b"}, fail_times=2))
    assert runner.run_once() == 1  # the batch [a, b, c] fails and rolls back; then "a" alone is applied
    assert effect_ids(engine) == ["a"]
    while runner.run_once():  # [b, c] fails once more, then b alone succeeds
        pass
    assert effect_ids(engine) == ["a", "b", "c"]


def test_poison_event_is_parked_not_blocking(engine: Engine, setup: tuple[IngestPipeline, str]) -> None:
    pipeline, tenant_id = setup
    send(pipeline, tenant_id, ["a", "poison", "c"])
    runner = ProcessorRunner(engine, Recorder(fail_on={"poison"}))
    for _ in range(10):
        try:
            if not runner.run_once():
                break
        except RuntimeError:
            continue
    assert effect_ids(engine) == ["a", "c"]
    with engine.connect() as conn:
        parked = conn.execute(select(parked_events)).one()
    assert parked.processor == "recorder" and "cannot handle poison" in parked.error


def test_bus_threads_apply_device_state(engine: Engine, setup: tuple[IngestPipeline, str]) -> None:
    pipeline, tenant_id = setup
    bus = InProcessBus(engine, poll_seconds=0.05)
    bus.register(DeviceStateProcessor())
    pipeline.on_commit(bus.notify)
    bus.start()
    try:
        send(pipeline, tenant_id, ["h1", "h2"])
        send(pipeline, tenant_id, ["t1"], type_="device.telemetry")
        send(pipeline, tenant_id, ["h1"])  # duplicate: counted once
        deadline = datetime.now(UTC).timestamp() + 10
        while datetime.now(UTC).timestamp() < deadline:
            with engine.connect() as conn:
                status = list_device_status(conn, tenant_id=tenant_id)
            if status and status[0].events_count == 3:
                break
        assert [(s.source, s.events_count) for s in status] == [("gw-1", 3)]
    finally:
        bus.stop()


def test_registering_twice_or_late_is_refused(engine: Engine) -> None:
    bus = InProcessBus(engine)
    bus.register(DeviceStateProcessor())
    with pytest.raises(ValueError, match="twice"):
        bus.register(DeviceStateProcessor())
    bus.start()
    try:
        with pytest.raises(RuntimeError, match="before"):
            bus.register(Recorder())
    finally:
        bus.stop()


def test_device_state_counts_add_up(engine: Engine, setup: tuple[IngestPipeline, str]) -> None:
    pipeline, tenant_id = setup
    send(pipeline, tenant_id, [f"x{i}" for i in range(5)])
    runner = ProcessorRunner(engine, DeviceStateProcessor(), batch_size=2)
    while runner.run_once():
        pass
    with engine.connect() as conn:
        [status] = list_device_status(conn, tenant_id=tenant_id)
        total = conn.execute(select(func.count()).select_from(effects)).scalar_one()
    assert status.events_count == 5 and total == 0
    assert status.last_seen_at == datetime(2026, 11, 29, 11, tzinfo=UTC)


def stored_checkpoint(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(processor_checkpoints.c.last_seq).where(
            processor_checkpoints.c.processor == name)) or 0)  # fmt: skip


def test_unwanted_entries_are_skipped_without_writing_the_checkpoint_each_time(
    engine: Engine, setup: tuple[IngestPipeline, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline, tenant_id = setup
    runner = ProcessorRunner(engine, Recorder())
    send(pipeline, tenant_id, ["a"])
    assert runner.run_once() == 1  # "a" is wanted: applied in a write transaction, checkpoint stored
    stored = stored_checkpoint(engine, "recorder")
    send(pipeline, tenant_id, ["t1", "t2", "t3"], type_="device.telemetry")
    assert runner.run_once() == 3  # nothing wanted: moved past them by reading only
    assert runner.run_once() == 0 and runner.lag() == 0
    assert stored_checkpoint(engine, "recorder") == stored  # not written yet
    send(pipeline, tenant_id, ["b"])
    assert runner.run_once() == 1  # applied from where it skipped to; the checkpoint catches up
    assert stored_checkpoint(engine, "recorder") == stored + 4
    send(pipeline, tenant_id, ["t4"], type_="device.telemetry")
    monkeypatch.setattr("tradeoff.platform.bus.SKIP_PERSIST_SECONDS", 0.0)
    assert runner.run_once() == 1
    assert stored_checkpoint(engine, "recorder") == stored + 5  # persisted once the interval passed
    assert effect_ids(engine) == ["a", "b"]


def test_restart_after_unpersisted_skip_applies_nothing_twice(
    engine: Engine, setup: tuple[IngestPipeline, str]
) -> None:
    pipeline, tenant_id = setup
    send(pipeline, tenant_id, ["a"])
    send(pipeline, tenant_id, ["t1", "t2"], type_="device.telemetry")
    first = ProcessorRunner(engine, Recorder())
    while first.run_once():
        pass
    send(pipeline, tenant_id, ["b"])
    restarted = ProcessorRunner(engine, Recorder())  # the skip above was only in the first runner's memory
    while restarted.run_once():
        pass
    assert effect_ids(engine) == ["a", "b"]
    assert stored_checkpoint(engine, "recorder") == 4


def send_rich(pipeline: IngestPipeline, tenant_id: str, ids: list[str]) -> None:
    """Events whose stored form differs from what was sent: an offset time, nested payloads, floats."""
    items: list[dict[str, Any]] = [
        {"event_id": i, "type": "device.heartbeat", "occurred_at": "2026-11-29T12:00:00.123456+01:00",
         "source": "gw-1", "schema_version": 2, "payload": {"t": 3.25, "n": [1, {"deep": "é"}], "ok": True}}
        for i in ids
    ]  # fmt: skip
    body = orjson.dumps({"events": items})
    pipeline.ingest(RawMessage(body=body, transport="http", tenant_id=tenant_id, received_at=NOW), decoder="json-batch")


class Collector(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Event] = []

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        self.seen.extend(events)
        super().apply(conn, events)


def test_the_committed_tail_hands_processors_the_events_exactly_as_the_log_holds_them(
    engine: Engine, setup: tuple[IngestPipeline, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline, tenant_id = setup
    bus = InProcessBus(engine)
    collector = Collector()
    bus.register(collector)
    pipeline.on_events(bus.publish)
    send(pipeline, tenant_id, ["a"])
    bus.drain()  # the first run reads the log (a runner starts with no position)
    send_rich(pipeline, tenant_id, ["b", "c"])
    send(pipeline, tenant_id, ["t1"], type_="device.telemetry")
    send_rich(pipeline, tenant_id, ["d"])
    reads: list[int] = []
    original = __import__("tradeoff.platform.bus", fromlist=["read_events"]).read_events
    monkeypatch.setattr("tradeoff.platform.bus.read_events", lambda *a, **k: reads.append(1) or original(*a, **k))
    bus.drain()
    assert reads == []  # served from the tail
    with engine.connect() as conn:
        stored = [e for e in read_events(conn, after_seq=0, limit=100) if e.type == "device.heartbeat"]
    assert collector.seen == stored
    assert [(e.occurred_at.tzinfo, e.received_at.tzinfo) for e in collector.seen[1:]] == [(UTC, UTC)] * 3
    assert stored_checkpoint(engine, "recorder") == stored[-1].seq


def test_entries_deleted_after_they_were_committed_are_not_taken_from_the_tail(
    engine: Engine, setup: tuple[IngestPipeline, str]
) -> None:
    pipeline, tenant_id = setup
    bus = InProcessBus(engine)
    bus.register(Recorder())
    pipeline.on_events(bus.publish)
    send(pipeline, tenant_id, ["a"])
    bus.drain()
    send(pipeline, tenant_id, ["erased", "kept"])
    with engine.begin() as conn:  # an erasure removes one before the processor got to it
        conn.execute(delete(events).where(events.c.event_id == "erased"))
    bus.drain()
    assert effect_ids(engine) == ["a", "kept"]


def test_a_checkpoint_moved_by_another_process_wins_over_the_tail(
    engine: Engine, setup: tuple[IngestPipeline, str]
) -> None:
    pipeline, tenant_id = setup
    bus = InProcessBus(engine)
    bus.register(Recorder())
    pipeline.on_events(bus.publish)
    send(pipeline, tenant_id, ["a"])
    bus.drain()
    send(pipeline, tenant_id, ["b", "c"])
    other = ProcessorRunner(engine, Recorder())  # a worker process: no tail, reads the log
    while other.run_once():
        pass
    bus.drain()
    assert effect_ids(engine) == ["a", "b", "c"]  # each once


class Deriver:
    """A processor that appends an event of its own per heartbeat (like the presence processor)."""

    name = "deriver"
    event_types: frozenset[str] | None = frozenset({"device.heartbeat"})
    emits = frozenset({"test.derived"})

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        lock_appends(conn)
        append_events(conn, [
            {"tenant_id": e.tenant_id, "event_id": f"derived-{e.event_id}", "type": "test.derived",
             "schema_version": 1, "source": "deriver", "occurred_at": e.occurred_at, "received_at": e.received_at,
             "transport": "derived", "payload": {}}
            for e in events
        ])  # fmt: skip


class DerivedRecorder(Recorder):
    name = "derived-recorder"
    event_types: frozenset[str] | None = frozenset({"test.derived"})


def test_consumers_of_what_a_processor_appends_are_woken_without_waiting_for_the_poll(
    engine: Engine, setup: tuple[IngestPipeline, str]
) -> None:
    pipeline, tenant_id = setup
    bus = InProcessBus(engine, poll_seconds=60)  # only a wake-up can be fast
    bus.register(Deriver())
    bus.register(DerivedRecorder())
    pipeline.on_events(bus.publish)
    bus.start()
    try:
        time.sleep(0.2)  # the runners' first look (nothing there yet)
        send(pipeline, tenant_id, ["h1"])
        deadline = time.monotonic() + 10
        while effect_ids(engine) != ["derived-h1"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert effect_ids(engine) == ["derived-h1"]
    finally:
        bus.stop()


def test_an_idle_runner_stores_how_far_it_skipped_once_due(
    engine: Engine, setup: tuple[IngestPipeline, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline, tenant_id = setup
    runner = ProcessorRunner(engine, Recorder())
    send(pipeline, tenant_id, ["t1", "t2"], type_="device.telemetry")
    assert runner.run_once() == 2 and stored_checkpoint(engine, "recorder") == 0  # skipped, not yet stored
    assert runner.run_once() == 0 and stored_checkpoint(engine, "recorder") == 0
    monkeypatch.setattr("tradeoff.platform.bus.SKIP_PERSIST_SECONDS", 0.0)
    assert runner.run_once() == 0  # nothing new, but the skip is due to be stored
    assert stored_checkpoint(engine, "recorder") == 2


def test_device_state_upserts_many_devices_at_once(engine: Engine, setup: tuple[IngestPipeline, str]) -> None:
    """Hundreds of devices in one batch: every device gets its count and its latest telemetry."""
    from tradeoff.core.events import Event

    _, tenant_id = setup
    at = datetime(2026, 11, 29, 11, tzinfo=UTC)

    def event(seq: int, device: int, type_: str) -> Event:
        return Event(seq, tenant_id, f"e{seq}", type_, 1, f"d{device:03d}", at, at, "http", {"n": seq})

    devices = 230
    batch = [event(seq, seq % devices, "device.boot") for seq in range(1, 2 * devices + 1)]
    batch += [event(1000 + device, device, "device.telemetry") for device in range(0, devices, 2)]
    with engine.begin() as conn:
        DeviceStateProcessor().apply(conn, batch)
        DeviceStateProcessor().apply(conn, batch[:devices])  # counts add up across batches
    with engine.connect() as conn:
        status = {s.source: s for s in list_device_status(conn, tenant_id=tenant_id)}
    assert len(status) == devices
    assert {s.events_count for name, s in status.items() if int(name[1:]) % 2} == {3}
    assert {s.events_count for name, s in status.items() if not int(name[1:]) % 2} == {4}
    assert status["d004"].last_telemetry == {"n": 1004} and status["d005"].last_telemetry is None
