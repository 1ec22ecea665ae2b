"""The ingestion pipeline against real storage (SQLite and PostgreSQL)."""

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from tradeoff.core.events import EventIn
from tradeoff.platform import tenancy
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.platform.eventlog import read_events
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline, MessageRejected

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def ev(event_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "device.heartbeat",
        "occurred_at": "2026-11-29T11:59:00Z",
        "source": "gw-1",
        "payload": {"uptime_s": 1},
        **overrides,
    }


def batch(*items: Any, tenant_id: str, source: str | None = None) -> RawMessage:
    body = orjson.dumps({"events": list(items)})
    return RawMessage(body=body, transport="http", tenant_id=tenant_id, received_at=NOW, source=source)


@pytest.fixture
def tenant_id(engine: Engine) -> str:
    with engine.begin() as conn:
        return tenancy.create_tenant(conn, slug="acme", name="Acme").id


@pytest.fixture
def pipeline(engine: Engine) -> IngestPipeline:
    return IngestPipeline(engine=engine, decoders=default_registry(100))


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_accepts_dedups_and_rejects_per_item(engine: Engine, pipeline: IngestPipeline, tenant_id: str) -> None:
    report = pipeline.ingest(
        batch(ev("a"), ev("a"), ev("b", occurred_at="2026-11-29T11:00:00"), ev("c"), tenant_id=tenant_id),
        decoder="json-batch",
    )
    assert [i.status for i in report.items] == ["accepted", "duplicate", "rejected", "accepted"]
    assert (report.items[2].field, report.items[2].reason) == (
        "occurred_at",
        "Input should have timezone info",
    )
    again = pipeline.ingest(batch(ev("a"), ev("c"), tenant_id=tenant_id), decoder="json-batch")
    assert [i.status for i in again.items] == ["duplicate", "duplicate"]
    assert count(engine, events) == 2
    with engine.connect() as conn:
        [letter] = conn.execute(select(dead_letters)).all()
    assert letter.reason_code == "invalid_event" and letter.tenant_id == tenant_id
    assert orjson.loads(letter.raw)["event_id"] == "b"
    assert "occurred_at" in letter.reason


def test_same_event_id_in_two_tenants_is_two_events(engine: Engine, pipeline: IngestPipeline, tenant_id: str) -> None:
    with engine.begin() as conn:
        other = tenancy.create_tenant(conn, slug="other", name="Other").id
    pipeline.ingest(batch(ev("a"), tenant_id=tenant_id), decoder="json-batch")
    pipeline.ingest(batch(ev("a"), tenant_id=other), decoder="json-batch")
    with engine.connect() as conn:
        assert [e.tenant_id for e in read_events(conn, after_seq=0, limit=10)] == [tenant_id, other]
        assert len(read_events(conn, after_seq=0, limit=10, tenant_id=other)) == 1


def test_undecodable_body_is_dead_lettered_whole(engine: Engine, pipeline: IngestPipeline, tenant_id: str) -> None:
    raw = RawMessage(body=b"\xff{oops", transport="http", tenant_id=tenant_id, received_at=NOW)
    with pytest.raises(MessageRejected, match="not valid JSON"):
        pipeline.ingest(raw, decoder="json-batch")
    with engine.connect() as conn:
        letter = conn.execute(select(dead_letters)).one()
    assert letter.raw == b"\xff{oops" and letter.reason_code == "undecodable"
    assert count(engine, events) == 0


def test_device_bound_credential_cannot_speak_for_another_device(
    engine: Engine, pipeline: IngestPipeline, tenant_id: str
) -> None:
    report = pipeline.ingest(
        batch(
            ev("a", source="gw-2"),
            {k: v for k, v in ev("b").items() if k != "source"},
            tenant_id=tenant_id,
            source="gw-1",
        ),
        decoder="json-batch",
    )
    assert [i.status for i in report.items] == ["rejected", "accepted"]
    assert report.items[0].field == "source"
    with engine.connect() as conn:
        assert [e.source for e in read_events(conn, after_seq=0, limit=10)] == ["gw-1"]


def test_payload_size_limit(engine: Engine, pipeline: IngestPipeline, tenant_id: str) -> None:
    report = pipeline.ingest(batch(ev("big", payload={"x": "y" * 70_000}), tenant_id=tenant_id), decoder="json-batch")
    assert report.items[0].status == "rejected" and report.items[0].field == "payload"


def test_gate_can_rewrite_or_drop(engine: Engine, pipeline: IngestPipeline, tenant_id: str) -> None:
    class DropSecrets:
        name = "drop-secrets"

        def check(self, *, tenant_id: str, event: EventIn) -> EventIn | None:
            if event.payload.get("consent") is False:
                return None
            return event.model_copy(update={"payload": {"kept": True}})

    pipeline.add_gate(DropSecrets())
    report = pipeline.ingest(
        batch(ev("a", payload={"consent": False}), ev("b", payload={"x": 1}), tenant_id=tenant_id),
        decoder="json-batch",
    )
    assert [i.status for i in report.items] == ["dropped", "accepted"]
    with engine.connect() as conn:
        assert [e.payload for e in read_events(conn, after_seq=0, limit=10)] == [{"kept": True}]


def test_commit_listeners_hear_the_new_tail(engine: Engine, pipeline: IngestPipeline, tenant_id: str) -> None:
    heard: list[int] = []
    pipeline.on_commit(heard.append)
    pipeline.ingest(batch(ev("a"), ev("b"), tenant_id=tenant_id), decoder="json-batch")
    pipeline.ingest(batch(ev("a"), tenant_id=tenant_id), decoder="json-batch")  # only a duplicate: no commit news
    with engine.connect() as conn:
        assert heard == [read_events(conn, after_seq=0, limit=10)[-1].seq]


def test_batched_messages_share_one_transaction(engine: Engine, pipeline: IngestPipeline, tenant_id: str) -> None:
    def single(event_id: str) -> RawMessage:
        return RawMessage(
            body=orjson.dumps(ev(event_id)),
            transport="mqtt",
            tenant_id=tenant_id,
            received_at=NOW,
            source="gw-1",
        )

    bad = RawMessage(body=b"nope", transport="mqtt", tenant_id=tenant_id, received_at=NOW, source="gw-1")
    reports = pipeline.ingest_many([single("a"), bad, single("b"), single("a")], decoder="json")
    assert reports[1] is None
    assert [r.items[0].status for r in reports if r is not None] == ["accepted", "accepted", "duplicate"]
    assert count(engine, events) == 2 and count(engine, dead_letters) == 1
