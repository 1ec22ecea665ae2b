"""What every generator shares: the protocol, its context, envelopes with stable ids, and cadences."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tradeoff.sim.world import World

EventDict = dict[str, Any]


def iso(ts: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix and millisecond precision."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventFactory:
    """Canonical envelopes whose ids are unique and reproducible: ``<run>-<source>-<kind>-<n>``.

    The same run (same ``run_id``) produces the same ids in the same order, so an event that is sent
    twice (a retry, an MQTT redelivery) is stored once; a new run gets new ids.
    """

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._counters: dict[tuple[str, str], int] = {}

    def next_id(self, source: str, kind: str) -> str:
        count = self._counters.get((source, kind), 0) + 1
        self._counters[(source, kind)] = count
        event_id = f"{self.run_id}-{source}-{kind}-{count:06d}"
        if len(event_id) > 128:  # the envelope's limit; long sources keep uniqueness through a digest
            event_id = f"{self.run_id}-{hashlib.sha256(event_id.encode()).hexdigest()[:40]}"
        return event_id

    def make(
        self,
        *,
        type: str,
        source: str,
        occurred_at: datetime,
        payload: dict[str, Any],
        kind: str | None = None,
        schema_version: int = 1,
    ) -> EventDict:
        return {
            "event_id": self.next_id(source, kind or type.rsplit(".", 1)[-1]),
            "type": type,
            "occurred_at": iso(occurred_at),
            "source": source,
            "schema_version": schema_version,
            "payload": payload,
        }

    def raw(self, *, source: str, format: str, body: bytes, type: str, kind: str | None = None) -> EventDict:
        """A message in a vendor format (a DEX audit, a gateway's JSON) that the platform's ``format``
        decoder turns into events; ``type`` is only what the simulator counts it as."""
        return {
            "event_id": self.next_id(source, kind or type.rsplit(".", 1)[-1]),
            "type": type,
            "source": source,
            "format": format,
            "body": body,
        }


def is_raw(event: EventDict) -> bool:
    """True for a vendor-format message (sent as its body, decoded by the platform), not an envelope."""
    return "format" in event


@dataclass(frozen=True)
class GeneratorContext:
    """Handed to every generator factory. ``rng(name)`` gives each generator its own seeded stream, so
    adding a generator never changes what the others produce."""

    world: World
    start: datetime
    seed: int
    run_id: str
    events: EventFactory = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", EventFactory(self.run_id))

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}:{name}")


class Generator(Protocol):
    """Produces the events that fall due up to the simulated instant ``now``.

    ``elapsed`` is the simulated time since the previous call (rates × elapsed = expected counts).
    Events must carry an ``occurred_at`` no later than ``now``.
    """

    name: str

    def tick(self, now: datetime, elapsed: timedelta) -> Iterable[EventDict]: ...


class Every:
    """A cadence: due times ``first``, then every ``interval`` (± ``jitter`` as a fraction of it)."""

    def __init__(
        self,
        first: datetime,
        interval: timedelta,
        *,
        rng: random.Random | None = None,
        jitter: float = 0.0,
    ) -> None:
        if interval <= timedelta(0):
            raise ValueError("interval must be positive")
        if not 0 <= jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")
        self.next = first
        self.interval = interval
        self.jitter = jitter
        self._rng = rng or random.Random(0)

    def due(self, now: datetime) -> list[datetime]:
        """Every due time ≤ ``now`` not returned before, oldest first."""
        out: list[datetime] = []
        while self.next <= now:
            out.append(self.next)
            factor = 1 + self._rng.uniform(-self.jitter, self.jitter) if self.jitter else 1
            self.next += self.interval * factor
        return out
