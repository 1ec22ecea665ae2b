"""MQTT publishing for the benchmark: QoS 1 with a bounded in-flight window, as fast as the broker acks."""

from __future__ import annotations

import select
import socket
import time
import uuid
from collections.abc import Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tradeoff.bench import mqtt_wire as wire
from tradeoff.bench.services import BenchError
from tradeoff.bench.workload import MqttMessage

DEFAULT_WINDOW = 20  # Mosquitto's default Receive Maximum for publishers; the broker may lower it


class WindowedPublisher:
    """At most ``window`` unacknowledged PUBLISHes on one connection; records when each went out."""

    def __init__(self, host: str, port: int, *, window: int = DEFAULT_WINDOW, timeout: float = 60.0) -> None:
        self.host, self.port, self.window, self.timeout = host, port, window, timeout
        self._sock: socket.socket | None = None
        self._reader = wire.PacketReader()
        self._next_id = 0

    def __enter__(self) -> WindowedPublisher:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise BenchError(f"cannot connect to the MQTT broker at {self.host}:{self.port}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        sock.sendall(wire.connect_packet(f"tradeoff-bench-pub-{uuid.uuid4().hex[:8]}"))
        connack = self._next_packets()[0]
        if connack.type != wire.CONNACK:
            raise BenchError(f"expected CONNACK, got packet type {connack.type}")
        self.window = max(1, min(self.window, wire.connack_receive_maximum(connack.body)))
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._sock is not None:
            try:
                self._sock.sendall(wire.disconnect_packet())
            finally:
                self._sock.close()
                self._sock = None

    def _next_packets(self) -> list[wire.Packet]:
        assert self._sock is not None
        while True:
            data = self._sock.recv(65536)
            if not data:
                raise BenchError("the MQTT broker closed the connection")
            packets = self._reader.feed(data)
            if packets:
                return packets

    def publish_all(self, messages: Sequence[MqttMessage], *, rate: float | None = None) -> list[float]:
        """Publish at QoS 1 until every PUBACK is in; returns each message's send time (monotonic).

        Without ``rate`` as fast as the window allows; with it, message ``i`` goes out at ``i / rate`` s.
        """
        assert self._sock is not None
        packets = [wire.publish_packet(m.topic, m.payload, self._packet_id()) for m in messages]
        sent = [0.0] * len(packets)
        next_up = acked = 0
        start = time.monotonic()
        while acked < len(packets):
            room = min(self.window - (next_up - acked), len(packets) - next_up)
            if rate is not None:
                room = min(room, int((time.monotonic() - start) * rate) + 1 - next_up)
            if room > 0:
                now = time.monotonic()
                sent[next_up : next_up + room] = [now] * room
                self._sock.sendall(b"".join(packets[next_up : next_up + room]))
                next_up += room
            due = None if rate is None or next_up == len(packets) else start + next_up / rate
            acked += self._read_acks(None if due is None else max(0.0, due - time.monotonic()), acked)
        return sent

    def _read_acks(self, timeout: float | None, acked: int) -> int:
        """PUBACKs that arrive within ``timeout`` (``None``: wait for some); a refusal is an error."""
        assert self._sock is not None
        if timeout is not None and not select.select([self._sock], [], [], timeout)[0]:
            return 0
        count = 0
        for packet in self._next_packets():
            if packet.type != wire.PUBACK:
                continue
            _, reason = wire.puback_reason(packet.body)
            if wire.is_failure(reason) or wire.nobody_listening(reason):
                raise BenchError(f"the broker answered PUBACK reason 0x{reason:02x} after {acked + count} messages")
            count += 1
        return count

    def _packet_id(self) -> int:
        self._next_id = self._next_id % 0xFFFF + 1
        return self._next_id


def discard_session(host: str, port: int, client_id: str) -> None:
    """Remove the persistent session a benchmark subscriber left on a shared broker."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 0
    try:
        client.connect(host, port, keepalive=10, clean_start=True, properties=props)
    except OSError:
        return
    client.loop_start()
    deadline = time.monotonic() + 5
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.02)
    client.disconnect()
    client.loop_stop()
