"""The privacy probe's own way to the platform: what the runner's senders cannot carry.

- the shopper's app: ``POST /v1/me/register`` (with a tenant key, as the app backend does),
  ``PUT /v1/me/consent`` and ``POST /v1/me/events`` with the app token;
- raw bytes that are not an event envelope (a non-JSON body over HTTP or MQTT), which the platform
  must dead-letter without keeping what they hold.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import orjson

from tradeoff.sim.base import EventDict

log = logging.getLogger(__name__)

POLICY_VERSION = "2026-11"


@dataclass(frozen=True, slots=True)
class Enrollment:
    subject_id: str
    app_token: str


class ProbeOutlet(Protocol):
    def enroll(self, *, tier: int, gpc: bool) -> Enrollment | None:
        """Register a shopper with a first consent tier; None when the platform refused."""
        ...

    def change_consent(self, token: str, *, tier: int, gpc: bool) -> bool: ...

    def send_app_events(self, token: str, events: Sequence[EventDict], *, gpc: bool) -> list[str]:
        """Per-item statuses (accepted, duplicate, dropped, rejected; failed when not delivered)."""
        ...

    def send_raw_http(self, body: bytes, *, content_type: str) -> int | None:
        """POST ``body`` as a device batch; the HTTP status (None when the platform did not answer)."""
        ...

    def send_raw_mqtt(self, topic: tuple[str, str, str], body: bytes) -> bool:
        """Publish ``body`` at QoS 1 to ``<prefix>/<tenant>/<device>/<type>``; False without a broker."""
        ...

    def close(self) -> None: ...


class HttpProbeOutlet:
    """The outlet of a real platform: its HTTP API and (optionally) its MQTT broker."""

    def __init__(
        self,
        base_url: str,
        *,
        register_key: str,
        device_keys: Mapping[str, str],
        mqtt_url: str | None = None,
        topic_prefix: str = "tradeoff",
        client: httpx.Client | None = None,
    ) -> None:
        self.client = client or httpx.Client(base_url=base_url, timeout=httpx.Timeout(30.0, connect=5.0))
        self._owns_client = client is None
        self.register_key = register_key
        # A till's key if there is one: raw junk arrives from a POS integration more than from anywhere.
        ordered = sorted(device_keys, key=lambda device: (not device.startswith("pos"), device))
        self.raw_key = device_keys[ordered[0]] if ordered else register_key
        self.mqtt_url = mqtt_url
        self.topic_prefix = topic_prefix
        self._mqtt: Any = None
        self._lock = threading.Lock()

    def _post(self, method: str, path: str, token: str, body: Any, *, gpc: bool = False) -> httpx.Response | None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if gpc:
            headers["Sec-GPC"] = "1"
        try:
            return self.client.request(method, path, content=orjson.dumps(body), headers=headers)
        except httpx.HTTPError as exc:
            log.warning("%s %s failed: %s", method, path, type(exc).__name__)
            return None

    def enroll(self, *, tier: int, gpc: bool) -> Enrollment | None:
        consent = {"tier": tier, "policy_version": POLICY_VERSION, "source": "app", "gpc": gpc}
        response = self._post("POST", "/v1/me/register", self.register_key, {"consent": consent}, gpc=gpc)
        if response is None or response.status_code != 201:
            log.warning("registering a shopper failed: %s", None if response is None else response.status_code)
            return None
        doc = response.json()
        return Enrollment(subject_id=doc["subject_id"], app_token=doc["app_token"])

    def change_consent(self, token: str, *, tier: int, gpc: bool) -> bool:
        body = {"tier": tier, "policy_version": POLICY_VERSION, "source": "app", "gpc": gpc}
        response = self._post("PUT", "/v1/me/consent", token, body, gpc=gpc)
        return response is not None and response.status_code == 200

    def send_app_events(self, token: str, events: Sequence[EventDict], *, gpc: bool) -> list[str]:
        response = self._post("POST", "/v1/me/events", token, {"events": list(events)}, gpc=gpc)
        if response is None or response.status_code != 200:
            return ["failed"] * len(events)
        return [str(item.get("status")) for item in response.json().get("results", [])]

    def send_raw_http(self, body: bytes, *, content_type: str) -> int | None:
        headers = {"Authorization": f"Bearer {self.raw_key}", "Content-Type": content_type}
        try:
            return self.client.post("/v1/events", content=body, headers=headers).status_code
        except httpx.HTTPError as exc:
            log.warning("raw POST failed: %s", type(exc).__name__)
            return None

    def send_raw_mqtt(self, topic: tuple[str, str, str], body: bytes) -> bool:
        client = self._mqtt_client()
        if client is None:
            return False
        info = client.publish("/".join((self.topic_prefix, *topic)), body, qos=1)
        info.wait_for_publish(15.0)
        return bool(info.is_published())

    def _mqtt_client(self) -> Any:
        if self.mqtt_url is None:
            return None
        with self._lock:
            if self._mqtt is None:
                import paho.mqtt.client as mqtt
                from paho.mqtt.enums import CallbackAPIVersion

                from tradeoff.platform.mqtt import parse_mqtt_url

                address = parse_mqtt_url(self.mqtt_url)
                client_id = f"tradeoff-probe-{secrets.token_hex(4)}"
                client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
                if address.username:
                    client.username_pw_set(address.username, address.password)
                connected = threading.Event()
                client.on_connect = lambda *_args: connected.set()
                client.connect(address.host, address.port, keepalive=30)
                client.loop_start()
                if not connected.wait(10):
                    client.loop_stop()
                    raise ConnectionError(f"MQTT broker {address.host}:{address.port} did not accept the probe")
                self._mqtt = client
            return self._mqtt

    def close(self) -> None:
        with self._lock:
            if self._mqtt is not None:
                self._mqtt.disconnect()
                self._mqtt.loop_stop()
                self._mqtt = None
        if self._owns_client:
            self.client.close()
