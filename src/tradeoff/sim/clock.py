"""Simulation time: the wall clock, or an accelerated one (``speed`` simulated seconds per real second).

Simulated time is derived from a monotonic real clock, never accumulated step by step, so a slow step
(a retrying transport) does not make the simulation drift: the next step simply covers more time.
Both the real clock and the sleep are injectable, which makes the arithmetic testable without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tradeoff.core.clock import ensure_utc


class SimClock:
    """``now()`` = ``start`` + (real seconds since creation) × ``speed``, as an aware UTC datetime."""

    def __init__(
        self,
        *,
        start: datetime | None = None,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.start = ensure_utc(start) if start is not None else datetime.now(UTC)
        self.speed = float(speed)
        self._monotonic = monotonic
        self._sleep = sleep
        self._origin = monotonic()

    @property
    def real_time(self) -> bool:
        return self.speed == 1.0

    def elapsed_real(self) -> float:
        """Real seconds since the clock started."""
        return self._monotonic() - self._origin

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_real() * self.speed)

    def real_seconds_until(self, sim_time: datetime) -> float:
        """How long to wait in real time until the simulation reaches ``sim_time`` (≤ 0: already there)."""
        return (ensure_utc(sim_time) - self.now()).total_seconds() / self.speed

    def sim_delta(self, real_seconds: float) -> timedelta:
        """The simulated span that ``real_seconds`` of real time covers."""
        return timedelta(seconds=real_seconds * self.speed)

    def sleep_until(self, sim_time: datetime, *, interrupt: threading.Event | None = None) -> bool:
        """Sleep until the simulation reaches ``sim_time``; False if ``interrupt`` was set meanwhile."""
        seconds = self.real_seconds_until(sim_time)
        if seconds > 0:
            if self._sleep is not None:
                self._sleep(seconds)
            elif interrupt is not None:
                return not interrupt.wait(seconds)
            else:
                time.sleep(seconds)
        return interrupt is None or not interrupt.is_set()


def parse_start(value: str | None) -> datetime | None:
    """``--start``: an ISO-8601 instant with a zone (``2026-11-29T08:00:00Z``); empty/``now`` means now."""
    if value is None or value.strip().lower() in ("", "now"):
        return None
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return ensure_utc(parsed)
