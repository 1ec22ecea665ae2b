"""MQTT transport: subscribes to ``<prefix>/<tenant>/<device>/<type>`` at QoS 1 and PUBACKs after commit.

The subscriber keeps a persistent MQTT 5 session under a fixed client id, so the broker holds what
arrives while we are down and redelivers whatever we had not acknowledged. Acknowledgement is manual:
messages are batched, committed in one transaction, and only then acknowledged. A crash between
commit and PUBACK leads to redelivery, which the event log deduplicates by event id. The MQTT client
itself runs in a reader process (``mqtt_reader``); this side commits and tells it what to acknowledge.

``<type>`` is either a registered decoder name (``dex``, ``espresense``…) or an event type for the
canonical JSON envelope.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from urllib.parse import urlparse

from sqlalchemy import Engine

from tradeoff.core.clock import utcnow
from tradeoff.platform import metrics
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline
from tradeoff.platform.mqtt_reader import PASSWORD_ENV, ReaderConfig, Received
from tradeoff.platform.tenancy import find_tenant_by_slug

log = logging.getLogger(__name__)

GENERATIONS_PER_READER = 1_000_000  # connection numbers of reader n start at n * this: never reused
# Under load a batch waits up to LINGER_SECONDS to fill (one commit for hundreds of messages instead of
# tens). Load: the previous batch held at least LINGER_MIN_BATCH messages, arriving at LINGER_ABOVE_RATE
# messages/s or more. Otherwise a batch is committed at once, so a quiet fleet's latency stays low.
LINGER_SECONDS = 0.02
LINGER_ABOVE_RATE = 2000.0
LINGER_MIN_BATCH = 8


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None


def parse_mqtt_url(url: str) -> BrokerAddress:
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ValueError(f"MQTT URL must look like mqtt://host:1883, got {url!r}")
    return BrokerAddress(parsed.hostname, parsed.port or 1883, parsed.username, parsed.password)


def topic_filter(prefix: str, shared_group: str = "") -> str:
    base = f"{prefix}/+/+/+"
    return f"$share/{shared_group}/{base}" if shared_group else base


class TenantDirectory:
    """Tenant slug → id, cached; unknown slugs are looked up again after a short while."""

    def __init__(self, engine: Engine, *, miss_ttl: float = 10.0) -> None:
        self.engine = engine
        self.miss_ttl = miss_ttl
        self._known: dict[str, str] = {}
        self._missing: dict[str, float] = {}

    def resolve(self, slug: str) -> str | None:
        if slug in self._known:
            return self._known[slug]
        if time.monotonic() - self._missing.get(slug, -1e9) < self.miss_ttl:
            return None
        with self.engine.connect() as conn:
            tenant = find_tenant_by_slug(conn, slug)
        if tenant is None:
            self._missing[slug] = time.monotonic()
            return None
        self._known[slug] = tenant.id
        return tenant.id


class MqttIngestor:
    """Commits what the reader process (``mqtt_reader``) receives, in batches, and has it acknowledge
    each batch once committed. The reader is restarted if it dies; its messages then in flight are
    redelivered by the broker and deduplicated by the log."""

    def __init__(
        self,
        *,
        pipeline: IngestPipeline,
        url: str,
        client_id: str,
        topic_prefix: str = "tradeoff",
        shared_group: str = "",
        batch_max: int = 1000,
    ) -> None:
        self.pipeline = pipeline
        self.address = parse_mqtt_url(url)
        self.client_id = client_id
        self.topic_prefix = topic_prefix
        self.filter = topic_filter(topic_prefix, shared_group)
        self.batch_max = batch_max
        self.tenants = TenantDirectory(pipeline.engine)
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._taken_at, self._taken_count = time.monotonic(), 0  # the last batch: when taken, how many
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._worker = threading.Thread(target=self._work, name="mqtt-ingest", daemon=True)
        self._listener = threading.Thread(target=self._listen, name="mqtt-listen", daemon=True)
        self._readers = 0  # reader processes started: each numbers its connections from its own base
        self._reader: subprocess.Popen[bytes] | None = None
        self._pipe: Connection | None = None
        self._pipe_lock = threading.Lock()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        self._worker.start()
        self._start_reader()
        self._listener.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stopping.set()
        self._worker.join(timeout=10)
        self._send(("stop",))
        self._reap_reader()
        with self._pipe_lock:
            if self._pipe is not None:
                self._pipe.close()
        self._listener.join(timeout=5)
        self._set_connected(False)

    def _start_reader(self) -> None:
        """``python -m tradeoff.platform.mqtt_reader`` on one end of a socket pair: a fresh interpreter that
        imports only the reader (multiprocessing's spawn would import this server's main module again)."""
        ours, theirs = socket.socketpair()
        self._readers += 1
        config = ReaderConfig(
            host=self.address.host,
            port=self.address.port,
            username=self.address.username,
            client_id=self.client_id,
            topic_filter=self.filter,
            generation_base=self._readers * GENERATIONS_PER_READER,
        )
        env = {**os.environ, PASSWORD_ENV: self.address.password or ""}  # not on the command line
        with theirs:
            reader = subprocess.Popen(
                [sys.executable, "-m", "tradeoff.platform.mqtt_reader", str(theirs.fileno()), config.to_json()],
                pass_fds=(theirs.fileno(),),
                env=env,
            )
        with self._pipe_lock:
            self._pipe, self._reader = Connection(ours.detach()), reader

    def _listen(self) -> None:
        """Moves what the reader sends into the inbox and tracks the connection; restarts a dead reader."""
        while not self._stopping.is_set():
            pipe = self._pipe
            assert pipe is not None  # started before this thread
            try:
                message = pipe.recv()
            except (EOFError, OSError):
                if self._stopping.is_set():
                    return
                self._set_connected(False)
                pipe.close()
                code = self._reap_reader()
                log.error("the MQTT reader process ended (exit code %s); starting another", code)
                self._stopping.wait(1.0)
                if not self._stopping.is_set():
                    self._start_reader()
                continue
            if message[0] == "batch":
                for received in message[1]:
                    self._inbox.put(received)
            else:
                self._set_connected(message[0] == "subscribed")

    def _reap_reader(self) -> int | None:
        """Wait for the reader that closed its end (it is exiting; killed if it lingers); its exit code."""
        if self._reader is None:
            return None
        try:
            return self._reader.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._reader.kill()
            return self._reader.wait(timeout=5)

    def _set_connected(self, connected: bool) -> None:
        """Ready only once the broker acknowledged the subscription: a message published before it is lost."""
        if connected == self._connected.is_set():
            return
        if connected:
            self._connected.set()
            log.info("MQTT connected; subscribed to %s", self.filter)
        else:
            self._connected.clear()
            if not self._stopping.is_set():
                log.warning("MQTT disconnected; reconnecting")
        metrics.MQTT_CONNECTED.set(1 if connected else 0)

    def _send(self, message: tuple[object, ...]) -> None:
        with self._pipe_lock:
            if self._pipe is None:
                return
            with contextlib.suppress(OSError):  # the reader is gone: what it did not acknowledge is redelivered
                self._pipe.send(message)

    def _next_batch(self) -> list[Received]:
        """What has arrived, up to ``batch_max``; under load (``LINGER_ABOVE_RATE``) it also waits up to
        ``LINGER_SECONDS`` for more. Why: a commit costs milliseconds of fixed work whatever its size, so
        under load committing tens at a time spends the CPU on commits that hundreds could share."""
        try:
            batch = [self._inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        now = time.monotonic()
        count = self._taken_count
        busy = count >= LINGER_MIN_BATCH and count / max(now - self._taken_at, 1e-6) >= LINGER_ABOVE_RATE
        deadline = now + LINGER_SECONDS if busy else now
        while len(batch) < self.batch_max:
            try:
                batch.append(self._inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=remaining))
            except queue.Empty:
                break
        self._taken_at, self._taken_count = now, len(batch)
        return batch

    def _work(self) -> None:
        while not self._stopping.is_set():
            batch = self._next_batch()
            if batch and self._commit_until_done(batch):
                acks: dict[int, list[int]] = {}
                for message in batch:
                    if message.qos > 0:
                        acks.setdefault(message.generation, []).append(message.mid)
                for generation, mids in acks.items():  # the reader drops those of an earlier connection
                    self._send(("ack", generation, mids))

    def _commit_until_done(self, batch: list[Received]) -> bool:
        """Retry a failed commit (database down) with backoff; nothing is acknowledged meanwhile."""
        delay = 0.5
        while not self._stopping.is_set():
            try:
                self._commit(batch)
                return True
            except Exception:
                log.exception("MQTT batch of %s not committed; retrying", len(batch))
                self._stopping.wait(delay)
                delay = min(delay * 2, 10.0)
        return False

    def _commit(self, batch: list[Received]) -> None:
        started = time.perf_counter()
        received_at = utcnow()
        groups: dict[str, list[RawMessage]] = {}
        for message in batch:
            parts = message.topic.split("/")
            if len(parts) != 4 or parts[0] != self.topic_prefix:
                continue  # not ours (the subscription filter prevents this)
            _, slug, device, kind = parts
            tenant_id = self.tenants.resolve(slug)
            decodes_itself = self.pipeline.decoders.has(kind)
            raw = RawMessage(
                body=message.payload,
                transport="mqtt",
                tenant_id=tenant_id or "",
                received_at=received_at,
                source=device,
                type_hint=None if decodes_itself else kind,
            )
            if tenant_id is None:
                self.pipeline.dead_letter(raw, code="unknown_tenant", reason=f"no tenant with slug {slug!r}")
                continue
            groups.setdefault(kind if decodes_itself else "json", []).append(raw)
        for decoder, messages in groups.items():
            self.pipeline.ingest_many(messages, decoder=decoder)
        metrics.INGEST_SECONDS.labels("mqtt").observe(time.perf_counter() - started)
