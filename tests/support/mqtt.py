"""A QoS 1 test publisher that waits for every PUBACK from the broker."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class Publisher:
    def __init__(self, port: int, *, client_id: str, host: str = "127.0.0.1", max_inflight: int = 200) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)
        connected = threading.Event()
        self.client.on_connect = lambda *_args: connected.set()
        self.client.connect(host, port)
        self.client.loop_start()
        if not connected.wait(10):
            raise TimeoutError(f"could not connect to the broker on port {port}")

    def publish_all(self, messages: Iterable[tuple[str, bytes]], timeout: float = 60) -> int:
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout)
        return len(infos)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def forget_session(port: int, client_id: str, host: str = "127.0.0.1") -> None:
    """Drop a persistent session a test left on a shared broker (clean start, zero expiry)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect(host, port, clean_start=True)
    client.loop_start()
    client.disconnect()
    client.loop_stop()
