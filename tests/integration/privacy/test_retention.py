"""The retention job deletes what is past its period, and nothing younger."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, select

from tradeoff.platform.db.registry import all_metadata
from tradeoff.platform.db.tables import dead_letters, events
from tradeoff.privacy.retention import apply_retention, retention_rules

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_every_retention_rule_has_a_clock() -> None:
    rules = retention_rules(all_metadata())  # raises if a table lacks its time_column
    assert {r.table.name for r in rules} >= {"events", "dead_letters"}


def test_old_rows_go_young_rows_stay(engine: Engine) -> None:
    def event(event_id: str, age_days: int) -> dict[str, object]:
        at = NOW - timedelta(days=age_days)
        return {
            "tenant_id": "t1",
            "event_id": event_id,
            "type": "device.heartbeat",
            "schema_version": 1,
            "source": "gw",
            "occurred_at": at,
            "received_at": at,
            "transport": "http",
            "payload": {},
        }

    def letter(age_days: int) -> dict[str, object]:
        return {
            "tenant_id": "t1",
            "transport": "http",
            "source": None,
            "reason_code": "invalid_event",
            "reason": "x",
            "raw": b"{}",
            "received_at": NOW - timedelta(days=age_days),
        }

    with engine.begin() as conn:
        conn.execute(insert(events), [event("old", 401), event("young", 399)])
        conn.execute(insert(dead_letters), [letter(31), letter(29)])
    affected = apply_retention(engine, all_metadata(), now=NOW)
    assert affected["events: delete rows older than 400 days (by received_at)"] == 1
    with engine.connect() as conn:
        assert list(conn.scalars(select(events.c.event_id))) == ["young"]
        assert conn.execute(select(func.count()).select_from(dead_letters)).scalar_one() == 1
