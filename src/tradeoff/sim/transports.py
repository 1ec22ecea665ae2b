"""How simulated devices reach the platform: the real HTTP batch API and the real MQTT broker.

Delivery is at-least-once: a batch is retried after a connection error or a 5xx, an MQTT message until
its PUBACK arrives; the platform deduplicates by event id, so a retry never stores an event twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

import httpx
import orjson

from tradeoff.sim.base import EventDict, is_raw

log = logging.getLogger(__name__)

TransportName = Literal["http", "mqtt"]


@dataclass
class SenderStats:
    """Cumulative delivery outcomes, in events."""

    attempted: int = 0  # handed to the transport
    delivered: int = 0  # accepted by the platform (HTTP) or acknowledged by the broker (MQTT PUBACK)
    duplicates: int = 0  # HTTP: the platform already had the event id (a retried batch)
    rejected: int = 0  # refused as invalid (HTTP per-item result; MQTT PUBACK failure code)
    failed: int = 0  # given up on (authentication, retries exhausted, unacknowledged at close)
    retries: int = 0  # HTTP requests repeated; MQTT waits for PUBACKs that timed out
    unrouted: int = 0  # MQTT: acknowledged, but the broker had no subscriber (is the platform subscribed?)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Sender(Protocol):
    name: TransportName
    stats: SenderStats

    def send(self, events: Sequence[EventDict]) -> None: ...

    def close(self) -> None: ...


def assign_transports(device_ids: Sequence[str], *, mqtt: bool) -> dict[str, TransportName]:
    """Every other device (in sorted order) over MQTT when a broker is configured; otherwise all HTTP."""
    return {device: ("mqtt" if mqtt and index % 2 == 1 else "http") for index, device in enumerate(sorted(device_ids))}


class HttpSender:
    """POSTs ``{"events": [...]}`` batches to ``/v1/events`` with each device's own key.

    Events are grouped by source so a device-bound key only ever speaks for its device; sources
    without a key of their own use ``default_key`` (an admin or unbound device key) if given.
    """

    name: TransportName = "http"

    def __init__(
        self,
        base_url: str,
        *,
        keys: Mapping[str, str],
        default_key: str | None = None,
        client: httpx.Client | None = None,
        batch_size: int = 500,
        max_attempts: int = 6,
        backoff: float = 0.25,
        max_backoff: float = 5.0,
        stop: threading.Event | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.keys = dict(keys)
        self.default_key = default_key
        self.client = client or httpx.Client(base_url=base_url, timeout=httpx.Timeout(30.0, connect=5.0))
        self._owns_client = client is None
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._stop = stop or threading.Event()
        self._sleep = sleep
        self.stats = SenderStats()

    def send(self, events: Sequence[EventDict]) -> None:
        by_key: dict[str, list[EventDict]] = {}
        for event in events:
            key = self.keys.get(str(event.get("source")), self.default_key)
            if key is None:
                self.stats.attempted += 1
                self.stats.failed += 1
                log.warning("no API key for source %s; event %s not sent", event.get("source"), event["event_id"])
                continue
            if is_raw(event):  # a vendor-format message is one request of its own
                self._post(key, [event], body=event["body"], format=str(event["format"]))
                continue
            by_key.setdefault(key, []).append(event)
        for key, batch in by_key.items():
            for start in range(0, len(batch), self.batch_size):
                self._post(key, batch[start : start + self.batch_size])

    def _post(self, key: str, batch: list[EventDict], *, body: bytes | None = None, format: str | None = None) -> None:
        self.stats.attempted += len(batch)
        if body is None:
            body = orjson.dumps({"events": batch})
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if format is not None:
            headers["Content-Type"] = "application/octet-stream"
        params = {"format": format} if format is not None else None
        delay = self.backoff
        problem = ""
        for attempt in range(self.max_attempts):
            if attempt:
                self.stats.retries += 1
                if not self._wait(delay):
                    break
                delay = min(delay * 2, self.max_backoff)
            try:
                response = self.client.post("/v1/events", content=body, headers=headers, params=params)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code >= 500 or response.status_code == 429:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                self.stats.failed += len(batch)
                log.warning("batch of %s refused: HTTP %s %s", len(batch), response.status_code, response.text)
                return
            if format is None:
                self._count(response.json(), batch)
            else:
                self._count_message(response.json(), batch[0])
            return
        self.stats.failed += len(batch)
        log.warning("batch of %s not delivered after %s attempts (%s)", len(batch), self.max_attempts, problem)

    def _count(self, report: dict[str, Any], batch: list[EventDict]) -> None:
        for item in report.get("results", []):
            status = item.get("status")
            if status in ("accepted", "dropped"):  # dropped: the privacy gate decided; nothing to retry
                self.stats.delivered += 1
            elif status == "duplicate":
                self.stats.duplicates += 1
            else:
                self.stats.rejected += 1
                index = int(item.get("index", 0))
                log.warning("event %s rejected: %s", batch[index].get("event_id"), item.get("error"))

    def _count_message(self, report: dict[str, Any], message: EventDict) -> None:
        """A vendor-format message is one unit however many events it decodes into: delivered unless the
        platform rejected part of it, a duplicate if it held nothing new."""
        statuses = {item.get("status") for item in report.get("results", [])}
        if "rejected" in statuses:
            self.stats.rejected += 1
            log.warning("message %s partly rejected: %s", message.get("event_id"), report.get("results"))
        elif statuses == {"duplicate"}:
            self.stats.duplicates += 1
        else:
            self.stats.delivered += 1

    def _wait(self, seconds: float) -> bool:
        if self._sleep is not None:
            self._sleep(seconds)
            return not self._stop.is_set()
        return not self._stop.wait(seconds)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()


def wait_until_ready(base_url: str, *, timeout: float, path: str = "/readyz") -> bool:
    """Poll ``path`` until it answers 200 (the server is up and, if configured, its broker connected)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            try:
                if client.get(path).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    return False
