"""Publishing simulated events over MQTT 5 at QoS 1, the way a device fleet would.

Each event goes, as its JSON envelope, to ``<prefix>/<tenant slug>/<device external id>/<event type>``
(the topic scheme ``tradeoff.platform.mqtt`` subscribes to). At most ``max_inflight`` messages wait for
their PUBACK at any time; ``send`` returns once every message it published is acknowledged (or the wait
timed out — paho keeps unacknowledged messages and resends them after a reconnect).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Sequence

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from tradeoff.platform.mqtt import parse_mqtt_url
from tradeoff.sim.base import EventDict, is_raw
from tradeoff.sim.transports import SenderStats, TransportName

log = logging.getLogger(__name__)

NO_MATCHING_SUBSCRIBERS = 16  # a PUBACK reason code: accepted, but nobody was listening


def event_topic(prefix: str, tenant_slug: str, event: EventDict) -> str:
    """``<prefix>/<tenant>/<source>/<type>``, or ``…/<format>`` for a vendor-format message."""
    last = event["format"] if is_raw(event) else event["type"]
    return f"{prefix}/{tenant_slug}/{event['source']}/{last}"


class MqttSender:
    name: TransportName = "mqtt"

    def __init__(
        self,
        url: str,
        *,
        tenant_slug: str,
        topic_prefix: str = "tradeoff",
        client_id: str | None = None,
        max_inflight: int = 200,
        ack_timeout: float = 15.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self.address = parse_mqtt_url(url)
        self.tenant_slug = tenant_slug
        self.topic_prefix = topic_prefix
        self.max_inflight = max_inflight
        self.ack_timeout = ack_timeout
        self.stats = SenderStats()
        self._cond = threading.Condition()
        self._pending: set[int] = set()
        self._early: dict[int, ReasonCode] = {}  # PUBACKs that beat the bookkeeping of their publish
        self._connected = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"tradeoff-sim-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv5,
        )
        if self.address.username:
            self.client.username_pw_set(self.address.username, self.address.password)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.connect_async(self.address.host, self.address.port, keepalive=30, clean_start=True)
        self.client.loop_start()
        if not self._connected.wait(connect_timeout):
            self.client.loop_stop()
            raise ConnectionError(f"MQTT broker {self.address.host}:{self.address.port} did not accept us")

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def send(self, events: Sequence[EventDict]) -> None:
        for event in events:
            self._wait_pending(self.max_inflight - 1)
            topic = event_topic(self.topic_prefix, self.tenant_slug, event)
            body = event["body"] if is_raw(event) else orjson.dumps(event)
            info = self.client.publish(topic, body, qos=1)
            with self._cond:
                self.stats.attempted += 1
                if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
                    self.stats.failed += 1
                elif info.mid in self._early:
                    self._settle(self._early.pop(info.mid))
                else:
                    self._pending.add(info.mid)  # also when disconnected: paho resends on reconnect
        if not self._wait_pending(0):
            log.warning("%s MQTT messages still unacknowledged after %ss", self.pending, self.ack_timeout)

    def _wait_pending(self, at_most: int) -> bool:
        deadline = time.monotonic() + self.ack_timeout
        with self._cond:
            while len(self._pending) > at_most:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.stats.retries += 1
                    return False
                self._cond.wait(remaining)
        return True

    def _settle(self, reason: ReasonCode) -> None:
        if reason.is_failure:
            self.stats.rejected += 1
            log.warning("MQTT publish refused by the broker: %s", reason)
        else:
            self.stats.delivered += 1
            if reason.value == NO_MATCHING_SUBSCRIBERS:
                self.stats.unrouted += 1

    def _on_connect(self, _c: mqtt.Client, _u: object, _f: object, reason: ReasonCode, _p: Properties | None) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        self._connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self._connected.clear()

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, reason: ReasonCode, _p: Properties | None) -> None:
        with self._cond:
            if mid in self._pending:
                self._pending.discard(mid)
                self._settle(reason)
                self._cond.notify_all()
            else:
                self._early[mid] = reason

    def close(self) -> None:
        self._wait_pending(0)
        with self._cond:
            self.stats.failed += len(self._pending)
            self._pending.clear()
        self.client.disconnect()
        self.client.loop_stop()
