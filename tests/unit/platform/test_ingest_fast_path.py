"""The pipeline's whole-message fast paths store exactly what the event-by-event path stores.

Two pipelines over two SQLite databases get the same messages: one as shipped (the privacy gate may clear a
message at once, rows are converted before the append lock), one whose privacy gate can only check event by
event. Whatever the messages hold (card numbers planted anywhere, identifiers, subjects, invalid items,
duplicates), the stored events, the dead letters and the per-item reports are the same, and no PAN is stored.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from tests.unit.privacy.fakes import FakeConsent, MemoryKeys
from tests.unit.privacy.test_scrub_cards import assert_no_pan, hidden_pans, tricky_values
from tradeoff.core.clock import FixedClock
from tradeoff.core.events import Event, EventIn
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.platform.eventlog import (
    _sqlite_utc_text,
    _sqlite_utc_texts,
    append_events,
    append_transaction,
    prepare_rows,
    read_events,
)
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.message import IngestReport, RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.subjects import Pseudonymizer

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
TENANT = "t1"


class EventByEvent:
    """The privacy gate without its whole-message screen (not a ``BatchScreen``)."""

    name = "privacy"

    def __init__(self, gate: PrivacyGate) -> None:
        self.gate = gate

    def check(self, *, tenant_id: str, event: EventIn) -> EventIn | None:
        return self.gate.check(tenant_id=tenant_id, event=event)

    def scrub_raw(self, raw: bytes) -> bytes:
        return self.gate.scrub_raw(raw)

    def scrub_text(self, text: str) -> str:
        return self.gate.scrub_text(text)


def database(path: Path) -> Engine:
    url = f"sqlite:///{path}"
    upgrade(url)
    return make_engine(url)


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[IngestPipeline, IngestPipeline]]:
    root = tmp_path_factory.mktemp("fast-path")
    fast_engine, exact_engine = database(root / "fast.db"), database(root / "exact.db")
    gate = PrivacyGate(consent=FakeConsent(), pseudonyms=Pseudonymizer(MemoryKeys()), clock=FixedClock(NOW))
    fast = IngestPipeline(engine=fast_engine, decoders=default_registry(1000), gates=[gate])
    exact = IngestPipeline(engine=exact_engine, decoders=default_registry(1000), gates=[EventByEvent(gate)])
    yield fast, exact
    fast_engine.dispose()
    exact_engine.dispose()


counter = itertools.count()


def envelope(payload: Any, **extra: Any) -> dict[str, Any]:
    n = next(counter)
    return {
        "event_id": f"a3e19f00-http-{n:09d}",
        "type": "device.telemetry",
        "occurred_at": "2026-11-29T11:59:00.123456+01:00",
        "source": f"vm-{n % 50:03d}",
        "payload": payload,
        **extra,
    }


def clean() -> dict[str, Any]:
    return {"temp_c": 4.5, "door_open": False, "power_w": 61, "firmware": "2.4.1", "slot_levels": [1, 4, 6]}


def stored(engine: Engine, after: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.event_id, events.c.source, events.c.occurred_at, events.c.payload)
            .where(events.c.seq > after)
            .order_by(events.c.seq)
        ).all()
        dead = conn.execute(select(dead_letters.c.reason, dead_letters.c.raw).order_by(dead_letters.c.id)).all()
    return [tuple(row) for row in rows], [tuple(row) for row in dead]


def results(report: IngestReport) -> list[Any]:
    return [(item.status, item.event_id, item.field, item.reason) for item in report.items]


def ingest_both(pipelines: tuple[IngestPipeline, IngestPipeline], body: bytes) -> None:
    fast, exact = pipelines
    before = [stored(pipeline.engine, 0) for pipeline in pipelines]
    message = RawMessage(body=body, transport="http", tenant_id=TENANT, received_at=NOW)
    reports = [pipeline.ingest(message, decoder="json-batch") for pipeline in (fast, exact)]
    assert results(reports[0]) == results(reports[1])
    after = [stored(pipeline.engine, 0) for pipeline in pipelines]
    new_rows = [a[0][len(b[0]) :] for a, b in zip(after, before, strict=True)]
    new_dead = [a[1][len(b[1]) :] for a, b in zip(after, before, strict=True)]
    assert new_rows[0] == new_rows[1]
    assert new_dead[0] == new_dead[1]


def test_a_clean_batch_and_a_batch_with_a_card_number_store_the_same(
    pipelines: tuple[IngestPipeline, IngestPipeline],
) -> None:
    items = [envelope(clean()) for _ in range(50)]
    ingest_both(pipelines, orjson.dumps({"events": items}))
    items = [envelope(clean()) for _ in range(50)]
    items[17] = envelope({"note": "card 4111 1111 1111 1111", "email": "ann@example.org"})
    items.append(items[3])  # a duplicate
    items.append({"event_id": "bad"})  # rejected, dead-lettered
    ingest_both(pipelines, orjson.dumps({"events": items}))
    fast_rows, _ = stored(pipelines[0].engine, 0)
    assert_no_pan("4111111111111111", [row[3] for row in fast_rows])


planted = st.one_of(hidden_pans().map(lambda case: case[1]["payload"]), tricky_values)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(planted=st.lists(planted, max_size=3), clean_count=st.integers(0, 8), invalid=st.booleans())
def test_random_messages_store_the_same_either_way(
    pipelines: tuple[IngestPipeline, IngestPipeline], planted: list[Any], clean_count: int, invalid: bool
) -> None:
    items: list[Any] = [envelope(clean()) for _ in range(clean_count)]
    items += [envelope(value if isinstance(value, dict) else {"x": value}) for value in planted]
    if invalid:
        items.append(envelope(clean(), occurred_at="yesterday"))
    if not items:
        return
    ingest_both(pipelines, orjson.dumps({"events": items}))


def test_prepared_rows_store_what_rows_store(pipelines: tuple[IngestPipeline, IngestPipeline]) -> None:
    engine = pipelines[0].engine
    row = {
        "tenant_id": TENANT,
        "event_id": "prepared-1",
        "type": "device.heartbeat",
        "schema_version": 1,
        "source": "gw-1",
        "occurred_at": datetime(2026, 11, 29, 11, 59, 0, 5, tzinfo=UTC),
        "received_at": NOW,
        "transport": "http",
        "payload": {"a": [1, "b"]},
    }
    with append_transaction(engine) as conn:
        first = append_events(conn, prepare_rows(engine.dialect, [row]))
        again = append_events(conn, prepare_rows(engine.dialect, [row]))  # a duplicate: skipped
        other = append_events(conn, [{**row, "event_id": "prepared-2"}])
    assert list(first) == [(TENANT, "prepared-1")] and again == {} and list(other) == [(TENANT, "prepared-2")]
    with engine.connect() as conn:
        page = read_events(conn, after_seq=first[(TENANT, "prepared-1")] - 1, limit=2)
    assert [event.event_id for event in page] == ["prepared-1", "prepared-2"]
    assert page[0].occurred_at == row["occurred_at"] and page[0].occurred_at.tzinfo is UTC
    assert page[0].received_at is page[1].received_at  # parsed once per page
    assert page[0].payload == {"a": [1, "b"]}


def test_sqlite_times_are_written_as_sqlalchemy_writes_them() -> None:
    from sqlalchemy.dialects.sqlite.base import SQLiteDialect

    dialect = SQLiteDialect()
    core = events.c.occurred_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert core is not None
    for value in [
        datetime(2026, 1, 1, 8, 0, 0, 123000, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(5, 1, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-2))),
        EventIn.model_validate(envelope({})).occurred_at,  # pydantic's own tzinfo
    ]:
        assert _sqlite_utc_text(value) == core(value)
    with pytest.raises(ValueError, match="naive"):
        _sqlite_utc_text(datetime(2026, 1, 1))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1, 1, 2),
            max_value=datetime(9998, 12, 30),
            timezones=st.sampled_from(
                [UTC, timezone(timedelta(0)), timezone(timedelta(seconds=20)), timezone(timedelta(hours=-3))]
            )
            | st.timezones(),
        ),
        min_size=1,
        max_size=20,
    ),
    st.booleans(),
)
def test_a_column_of_times_is_written_as_sqlalchemy_writes_it(values: list[datetime], parsed: bool) -> None:
    from sqlalchemy.dialects.sqlite.base import SQLiteDialect

    if parsed:  # as the pipeline has them: pydantic's own tzinfo (ISO text only has whole-minute offsets)
        values = [
            EventIn.model_validate(envelope({}, occurred_at=value.isoformat())).occurred_at
            if value.utcoffset() % timedelta(minutes=1) == timedelta(0)
            else value
            for value in values
        ]
    dialect = SQLiteDialect()
    core = events.c.occurred_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert core is not None
    assert _sqlite_utc_texts(values) == [core(value) for value in values]
    utc = [value.astimezone(UTC) for value in values]
    assert _sqlite_utc_texts(utc) == [core(value) for value in utc]


def test_events_keep_their_dataclass_behaviour() -> None:
    import dataclasses

    event = Event(1, "t", "e", "x", 1, "s", NOW, NOW, "http", {})
    assert event == Event(
        seq=1,
        tenant_id="t",
        event_id="e",
        type="x",
        schema_version=1,
        source="s",
        occurred_at=NOW,
        received_at=NOW,
        transport="http",
        payload={},
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.seq = 2  # type: ignore[misc]
    assert dataclasses.replace(event, seq=3).seq == 3


def test_reading_some_types_up_to_a_seq(pipelines: tuple[IngestPipeline, IngestPipeline]) -> None:
    engine = pipelines[1].engine
    base = {
        "tenant_id": TENANT,
        "schema_version": 1,
        "source": "gw-1",
        "occurred_at": NOW,
        "received_at": NOW,
        "transport": "http",
        "payload": {},
    }
    rows = [{**base, "event_id": f"typed-{n}", "type": kind} for n, kind in enumerate("abab")]
    with append_transaction(engine) as conn:
        seqs = sorted(append_events(conn, rows).values())
    with engine.connect() as conn:
        page = read_events(conn, after_seq=seqs[0] - 1, until_seq=seqs[2], limit=10, types=["a"])
        assert [event.event_id for event in page] == ["typed-0", "typed-2"]
        assert [e.event_id for e in read_events(conn, after_seq=seqs[0], limit=10, types=["b"])] == [
            "typed-1",
            "typed-3",
        ]
