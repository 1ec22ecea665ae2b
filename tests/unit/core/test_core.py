from datetime import UTC, datetime, timedelta, timezone

import pytest

from tradeoff.core.clock import FixedClock, ensure_utc
from tradeoff.core.events import EventIn
from tradeoff.core.ids import new_id
from tradeoff.core.money import Money


def test_ids_are_unique_and_time_ordered() -> None:
    ids = [new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(i) == 32 for i in ids)
    assert ids[0][:12] <= ids[-1][:12]


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    clock.advance(timedelta(minutes=5))
    assert clock.now() == datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone"):
        FixedClock(datetime(2026, 1, 1))


def test_ensure_utc_converts_and_refuses_naive() -> None:
    cet = timezone(timedelta(hours=1))
    assert ensure_utc(datetime(2026, 1, 1, 13, tzinfo=cet)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    with pytest.raises(ValueError):
        ensure_utc(datetime(2026, 1, 1))


def test_money_refuses_mixed_currencies() -> None:
    assert Money(150, "EUR") + Money(50, "EUR") == Money(200, "EUR")
    with pytest.raises(ValueError, match="EUR with USD"):
        Money(1, "EUR") + Money(1, "USD")
    with pytest.raises(ValueError):
        Money(1, "eur")


def test_event_envelope_rules() -> None:
    ok = EventIn.model_validate(
        {"event_id": "e-1", "type": "device.heartbeat", "occurred_at": "2026-01-01T00:00:00+02:00"}
    )
    assert ok.occurred_at.utcoffset() == timedelta(hours=2)
    assert ok.schema_version == 1 and ok.payload == {}
    for bad in (
        {"event_id": "has space", "type": "a", "occurred_at": "2026-01-01T00:00:00Z"},
        {"event_id": "e", "type": "Upper", "occurred_at": "2026-01-01T00:00:00Z"},
        {"event_id": "e", "type": "a", "occurred_at": "2026-01-01T00:00:00"},
        {"event_id": "e", "type": "a", "occurred_at": "2026-01-01T00:00:00Z", "extra": 1},
        {"event_id": "e" * 129, "type": "a", "occurred_at": "2026-01-01T00:00:00Z"},
    ):
        with pytest.raises(ValueError):
            EventIn.model_validate(bad)
