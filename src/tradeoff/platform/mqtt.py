"""MQTT transport: subscribes to ``<prefix>/<tenant>/<device>/<type>`` at QoS 1 and PUBACKs after commit.

The subscriber keeps a persistent MQTT 5 session under a fixed client id, so the broker holds what
arrives while we are down and redelivers whatever we had not acknowledged. Acknowledgement is manual:
messages are batched, committed in one transaction, and only then acknowledged. A crash between
commit and PUBACK leads to redelivery, which the event log deduplicates by event id.

``<type>`` is either a registered decoder name (``dex``, ``espresense``…) or an event type for the
canonical JSON envelope.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine

from tradeoff.core.clock import utcnow
from tradeoff.platform import metrics
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline
from tradeoff.platform.tenancy import find_tenant_by_slug

log = logging.getLogger(__name__)

RECEIVE_MAXIMUM = 65535  # let the broker keep this many unacknowledged messages in flight to us
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
# Under load a batch waits up to LINGER_SECONDS to fill (one commit for hundreds of messages instead of
# tens). Load: the previous batch held at least LINGER_MIN_BATCH messages, arriving at LINGER_ABOVE_RATE
# messages/s or more. Otherwise a batch is committed at once, so a quiet fleet's latency stays low.
LINGER_SECONDS = 0.02
LINGER_ABOVE_RATE = 2000.0
LINGER_MIN_BATCH = 8


class Received(NamedTuple):
    """An incoming PUBLISH as the worker needs it; ``generation`` is the connection it arrived on."""

    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes


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
        self.topic_prefix = topic_prefix
        self.filter = topic_filter(topic_prefix, shared_group)
        self.batch_max = batch_max
        self.tenants = TenantDirectory(pipeline.engine)
        # Each message carries the connection generation it arrived on: a packet id is only
        # meaningful on that connection, so a stale one must never be acknowledged on a new one.
        self._inbox: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._generation = 0
        self._taken_at, self._taken_count = time.monotonic(), 0  # the last batch: when taken, how many
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._worker = threading.Thread(target=self._work, name="mqtt-ingest", daemon=True)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, reconnect_on_failure=True
        )
        if self.address.username:
            self.client.username_pw_set(self.address.username, self.address.password)
        self.client.manual_ack_set(True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_NEVER_EXPIRES
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self._worker.start()
        self.client.connect_async(
            self.address.host, self.address.port, keepalive=30, clean_start=False, properties=props
        )
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stopping.set()
        self._worker.join(timeout=10)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        self._generation += 1
        client.subscribe(self.filter, qos=1)

    def _on_subscribe(self, *_args: object) -> None:
        """Ready only once the broker acknowledged the subscription: a message published before it is lost."""
        self._connected.set()
        metrics.MQTT_CONNECTED.set(1)
        log.info("MQTT connected; subscribed to %s", self.filter)

    def _on_disconnect(self, *_args: object) -> None:
        self._connected.clear()
        metrics.MQTT_CONNECTED.set(0)
        if not self._stopping.is_set():
            log.warning("MQTT disconnected; reconnecting")

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        # Keep only plain values: paho's message object (with its lock and condition) is freed at once,
        # so a backlog of tens of thousands is cheap to hold and invisible to the garbage collector.
        self._inbox.put(Received(self._generation, message.mid, message.qos, message.topic, bytes(message.payload)))

    def _next_batch(self) -> list[Received]:
        """What has arrived, up to ``batch_max``; under load (``LINGER_ABOVE_RATE``) it also waits up to
        ``LINGER_SECONDS`` for more. Why: this thread and paho's share the GIL, and a commit costs
        milliseconds whatever its size: committing tens at a time under load starves the reader of the
        GIL, which keeps batches small — waiting a little lets the reader fill the batch instead."""
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
                for message in batch:
                    if message.qos > 0 and message.generation == self._generation:
                        self.client.ack(message.mid, message.qos)

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
