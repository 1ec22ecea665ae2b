"""Concurrent ingest calls share commits, yet each id is stored once and reported accepted once, and one
caller's failure never fails another's."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from tradeoff.platform import tenancy
from tradeoff.platform.db.tables import events
from tradeoff.platform.eventlog import PreparedRows, prepare_rows
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.group_commit import GroupCommit
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


@pytest.fixture
def tenant_id(engine: Engine) -> str:
    with engine.begin() as conn:
        return tenancy.create_tenant(conn, slug="acme", name="Acme").id


def body(ids: list[str]) -> bytes:
    items = [
        {"event_id": i, "type": "device.heartbeat", "occurred_at": "2026-11-29T11:00:00Z", "source": "gw"} for i in ids
    ]
    return orjson.dumps({"events": items})


def row(tenant_id: str, event_id: str) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "event_id": event_id, "type": "device.heartbeat", "schema_version": 1,
            "source": "gw", "occurred_at": NOW, "received_at": NOW, "transport": "http", "payload": {}}  # fmt: skip


def test_concurrent_overlapping_batches_store_and_accept_each_id_once(engine: Engine, tenant_id: str) -> None:
    pipeline = IngestPipeline(engine=engine, decoders=default_registry(1000))
    statuses: Counter[tuple[str, str]] = Counter()
    lock = threading.Lock()

    def send(worker: int) -> None:
        for round_ in range(15):  # every worker repeats ids of its neighbours
            ids = [f"e{(worker + round_ + k) % 40:03d}" for k in range(10)]
            message = RawMessage(body=body(ids), transport="http", tenant_id=tenant_id, received_at=NOW)
            report = pipeline.ingest(message, decoder="json-batch")
            with lock:
                statuses.update((item.event_id or "", item.status) for item in report.items)

    threads = [threading.Thread(target=send, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        stored = conn.execute(select(events.c.event_id, func.count()).group_by(events.c.event_id)).all()
    sent = [f"e{i:03d}" for i in range(5 + 14 + 10)]
    assert sorted(event_id for event_id, _ in stored) == sent
    assert all(count == 1 for _, count in stored)
    assert all(statuses[(event_id, "accepted")] == 1 for event_id in sent)
    assert sum(statuses.values()) == 6 * 15 * 10


def test_calls_waiting_for_the_turn_are_committed_together_and_a_bad_one_fails_alone(
    engine: Engine, tenant_id: str
) -> None:
    appends = GroupCommit(engine)
    good = [prepare_rows(engine.dialect, [row(tenant_id, f"g{i}"), row(tenant_id, "shared")]) for i in range(3)]
    other_dialect = "postgresql" if engine.dialect.name == "sqlite" else "sqlite"
    bad = PreparedRows(other_dialect, [("x",)])  # append_events refuses rows prepared for another database
    outcomes: dict[str, Any] = {}

    def call(name: str, rows: PreparedRows) -> None:
        try:
            outcomes[name] = appends.append(rows, [])
        except Exception as exc:
            outcomes[name] = exc

    appends._turn.acquire()  # a commit in progress: everyone else queues
    threads = [threading.Thread(target=call, args=(f"good{i}", rows)) for i, rows in enumerate(good)]
    threads.append(threading.Thread(target=call, args=("bad", bad)))
    for thread in threads:
        thread.start()
    while len(appends._queued) < 4:
        threading.Event().wait(0.01)
    appends._turn.release()
    for thread in threads:
        thread.join()
    assert isinstance(outcomes["bad"], ValueError)
    inserted = [outcomes[f"good{i}"] for i in range(3)]
    assert all((tenant_id, f"g{i}") in inserted[i] for i in range(3))
    assert sum((tenant_id, "shared") in keys for keys in inserted) == 1  # the first in line inserted it
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(events)) == 4


def test_calls_sharing_a_transaction_get_consecutive_seqs_each(engine: Engine, tenant_id: str) -> None:
    """The committed tail serves processors unbroken runs of seqs: a group's calls must not leave gaps."""
    from tradeoff.platform.eventlog import append_events, append_transaction

    calls = [[row(tenant_id, f"c{call}-{n}") for n in range(5)] for call in range(3)]
    with append_transaction(engine) as conn:
        inserted = [append_events(conn, prepare_rows(engine.dialect, rows)) for rows in calls]
    seqs = [sorted(keys.values()) for keys in inserted]
    assert [len(keys) for keys in inserted] == [5, 5, 5]
    assert all(run == list(range(run[0], run[0] + 5)) for run in seqs)
    assert seqs[1][0] == seqs[0][-1] + 1 and seqs[2][0] == seqs[1][-1] + 1


def test_appended_times_keep_their_instant_whatever_the_offset(engine: Engine, tenant_id: str) -> None:
    from datetime import timedelta, timezone

    from tradeoff.platform.eventlog import append_events, append_transaction, read_events

    paris = timezone(timedelta(hours=2))
    occurred = [datetime(2026, 11, 29, 13, 0, 0, 5, tzinfo=paris), datetime(2026, 11, 29, 11, 0, tzinfo=UTC)]
    rows = [{**row(tenant_id, f"t{n}"), "occurred_at": at} for n, at in enumerate(occurred)]
    with append_transaction(engine) as conn:
        append_events(conn, prepare_rows(engine.dialect, rows))
    with engine.connect() as conn:
        stored = read_events(conn, after_seq=0, limit=10)
    assert [event.occurred_at for event in stored] == occurred
    assert all(event.occurred_at.tzinfo is UTC and event.received_at == NOW for event in stored)
    with pytest.raises(ValueError, match="naive"):
        prepare_rows(engine.dialect, [{**row(tenant_id, "naive"), "occurred_at": datetime(2026, 11, 29, 11)}])
