"""The simulation loop: step the clock, collect due events from every generator, hand each to its
device's transport, count what went where. Runs in the foreground (``tradeoff simulate``) or in a
background thread (``tradeoff demo``); ``stop()`` ends it at the next step from any thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from tradeoff.sim.base import EventDict, Generator, iso
from tradeoff.sim.clock import SimClock
from tradeoff.sim.transports import Sender, TransportName

log = logging.getLogger(__name__)


class Simulator:
    def __init__(
        self,
        *,
        clock: SimClock,
        generators: Sequence[Generator],
        senders: Mapping[TransportName, Sender],
        routes: Mapping[str, TransportName] | None = None,
        default_transport: TransportName = "http",
        step_seconds: float = 1.0,
        on_step: Callable[[Simulator], None] | None = None,
        stop_event: threading.Event | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        if default_transport not in senders:
            raise ValueError(f"no sender for the default transport {default_transport!r}")
        self.clock = clock
        self.generators = list(generators)
        self.senders = dict(senders)
        self.routes = dict(routes or {})
        self.default_transport = default_transport
        self.step_seconds = step_seconds
        self.on_step = on_step
        self.stop_event = stop_event or threading.Event()
        self.info = dict(info or {})  # reported in the summary (seed, run id…)
        self.steps = 0
        self.last = clock.start
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._ended: float | None = None
        self._closed = False

    def stop(self) -> None:
        self.stop_event.set()

    @property
    def stopped(self) -> bool:
        return self.stop_event.is_set()

    def transport_for(self, source: str) -> TransportName:
        route = self.routes.get(source, self.default_transport)
        return route if route in self.senders else self.default_transport

    def step(self, now: datetime | None = None) -> int:
        """Generate everything due up to ``now`` (default: the clock's now) and send it; returns the count."""
        now = now or self.clock.now()
        elapsed = now - self.last
        by_transport: dict[TransportName, list[EventDict]] = {}
        for generator in self.generators:
            for event in generator.tick(now, elapsed):
                by_transport.setdefault(self.transport_for(str(event["source"])), []).append(event)
        self.last = now
        for transport, events in by_transport.items():
            with self._lock:
                for event in events:
                    key = (transport, str(event["type"]))
                    self._counts[key] = self._counts.get(key, 0) + 1
            self.senders[transport].send(events)
        self.steps += 1
        if self.on_step is not None:
            self.on_step(self)
        return sum(len(events) for events in by_transport.values())

    def run(self, duration: float | None = None) -> dict[str, Any]:
        """Run for ``duration`` real seconds (``None``: until ``stop()`` or Ctrl-C); returns ``summary()``."""
        self._started, self._ended = time.monotonic(), None
        end = self.clock.now() + self.clock.sim_delta(duration) if duration is not None else None
        try:
            while not self.stopped:
                target = self.last + self.clock.sim_delta(self.step_seconds)
                if end is not None:
                    target = min(target, end)
                if not self.clock.sleep_until(target, interrupt=self.stop_event):
                    break
                now = self.clock.now()
                self.step(min(now, end) if end is not None else now)
                if end is not None and self.last >= end:
                    break
        except KeyboardInterrupt:
            log.info("simulator interrupted")
        finally:
            self.stop_event.set()
            self._ended = time.monotonic()
        return self.summary()

    def counts(self) -> dict[tuple[str, str], int]:
        """Events handed to each transport, by (transport, event type)."""
        with self._lock:
            return dict(self._counts)

    def summary(self) -> dict[str, Any]:
        counts = self.counts()
        by_transport: dict[str, dict[str, int]] = {}
        for (transport, type_), n in sorted(counts.items()):
            by_transport.setdefault(transport, {})[type_] = n
        return {
            **self.info,
            "sim_start": iso(self.clock.start),
            "sim_now": iso(self.last),
            "speed": self.clock.speed,
            "real_seconds": round((self._ended or time.monotonic()) - self._started, 3),
            "steps": self.steps,
            "events": sum(counts.values()),
            "sent": by_transport,
            "delivery": {name: sender.stats.as_dict() for name, sender in self.senders.items()},
        }

    def close(self) -> None:
        """Close every sender (MQTT waits for outstanding PUBACKs first); idempotent."""
        if self._closed:
            return
        self._closed = True
        for sender in self.senders.values():
            try:
                sender.close()
            except Exception:
                log.exception("closing the %s sender failed", sender.name)
