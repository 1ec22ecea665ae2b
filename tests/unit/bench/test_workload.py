"""The synthetic fleet: unique ids, realistic sizes, and the same rows on every path."""

from datetime import UTC, datetime

import orjson
import pytest

from tradeoff.bench.workload import (
    chunks,
    event_id,
    http_bodies,
    index_of,
    make_events,
    mqtt_messages,
    storage_rows,
)
from tradeoff.core.events import EventIn


def test_event_ids_are_unique_and_encode_their_index() -> None:
    events = make_events("run1", 500, start=1000)
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == 500
    assert [index_of(i) for i in ids] == list(range(1000, 1500))
    assert index_of(event_id("a-b-c", 42)) == 42


def test_events_are_valid_envelopes_with_small_payloads() -> None:
    for event in make_events("r", 50):
        EventIn.model_validate(event)
        assert 100 <= len(orjson.dumps(event["payload"])) <= 200


def test_bodies_hold_batches_of_the_events_in_order() -> None:
    events = make_events("r", 25)
    bodies = http_bodies(events, 10)
    batches = [orjson.loads(body)["events"] for body in bodies]
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [e for b in batches for e in b] == events


def test_chunks_rejects_a_zero_batch() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        chunks([1], 0)


def test_storage_rows_are_what_the_pipeline_stores() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    event = make_events("r", 1)[0]
    (row,) = storage_rows([event], tenant_id="t1", received_at=now, transport="http")
    assert row["tenant_id"] == "t1"
    assert row["occurred_at"] == EventIn.model_validate(event).occurred_at
    assert row["payload"] == event["payload"]
    assert set(row) == {
        "tenant_id",
        "event_id",
        "type",
        "schema_version",
        "source",
        "occurred_at",
        "received_at",
        "transport",
        "payload",
    }


def test_mqtt_messages_put_type_and_source_in_the_topic() -> None:
    event = make_events("r", 1)[0]
    (message,) = mqtt_messages([event], prefix="tradeoff", tenant_slug="acme")
    assert message.topic == f"tradeoff/acme/{event['source']}/{event['type']}"
    body = orjson.loads(message.payload)
    assert "type" not in body and "source" not in body
    assert body["event_id"] == event["event_id"]
