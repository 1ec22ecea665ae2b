"""Time source. Everything works in timezone-aware UTC; tests and the simulator swap the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (unit tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start time")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


_process_clock: Clock | None = None


def use_clock(clock: Clock | None) -> None:
    """Make ``utcnow()`` read ``clock`` in this whole process (``None``: the wall clock again).

    For one process that runs the platform on a simulated, accelerated clock (``tradeoff demo``): fills,
    plans and receipt times then live in the simulation's time, so nothing it sends is "in the future"."""
    global _process_clock
    _process_clock = clock


def utcnow() -> datetime:
    return _process_clock.now() if _process_clock is not None else datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive datetimes are refused because their zone is unknowable."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a timezone (e.g. 2026-01-01T12:00:00Z)")
    return value.astimezone(UTC)
