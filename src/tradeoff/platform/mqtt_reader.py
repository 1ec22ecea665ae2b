"""The MQTT client side of the ingestor, run in a process of its own (``MqttIngestor`` starts it).

Why a process: paho spends tens of microseconds of Python on every message it reads. In the serving
process that time came out of the same GIL the commits, the processors and the API need: under load the
reader fell behind and the commits shrank. Here the client reads, hands messages to the server in
batches over a socket pair, and acknowledges exactly what the server reports committed — the server
decides every PUBACK, as before, so nothing is acknowledged that is not durable.

The socket pair carries pickled tuples (``multiprocessing.connection.Connection``). Reader → server:
``("subscribed", generation)`` once the broker acknowledged the subscription, ``("disconnected",)``,
``("batch", [Received, …])``. Server → reader: ``("ack", generation, [mid, …])`` and ``("stop",)``. A
packet id only means something on the connection it arrived on, so an ack for another generation (a
reconnect happened meanwhile) is dropped: the broker redelivers those messages and the event log
deduplicates them. When the server goes away (its end of the socket pair closes, even after SIGKILL)
the reader disconnects without acknowledging anything more and exits.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

RECEIVE_MAXIMUM = 65535  # let the broker keep this many unacknowledged messages in flight to us
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
PASSWORD_ENV = "TRADEOFF_MQTT_READER_PASSWORD"  # the broker password reaches the reader here, not in argv
# After a trip of FLUSH_AFTER messages or more (load), the next waits FLUSH_SECONDS for others to share it
# (one pickle, one write); a quiet reader sends each message as it comes.
FLUSH_SECONDS = 0.002
FLUSH_AFTER = 16
SEND_AT = 500  # this many waiting: paho's thread sends them itself, at once


class Received(NamedTuple):
    """An incoming PUBLISH as the server needs it; ``generation`` is the connection it arrived on."""

    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    host: str
    port: int
    username: str | None
    client_id: str
    topic_filter: str
    generation_base: int = 0  # this reader's connections are numbered from here up

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode()


def run_reader(config: ReaderConfig, pipe: Connection, password: str | None) -> None:
    """Runs until told to stop or the server goes away."""
    reader = _Reader(config, pipe, password)
    reader.start()
    try:
        reader.serve_acks()
    finally:
        reader.close()


def main(argv: list[str]) -> int:
    """``python -m tradeoff.platform.mqtt_reader FD CONFIG``: FD is this end of the server's socket pair,
    CONFIG the ``ReaderConfig`` as JSON; the broker password comes in ``TRADEOFF_MQTT_READER_PASSWORD``."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s mqtt-reader %(message)s")
    pipe = Connection(int(argv[0]))
    config = ReaderConfig(**orjson.loads(argv[1]))
    run_reader(config, pipe, os.environ.get(PASSWORD_ENV) or None)
    return 0


class _Reader:
    def __init__(self, config: ReaderConfig, pipe: Connection, password: str | None) -> None:
        self.config = config
        self.pipe = pipe
        self._send_lock = threading.Lock()
        self._pending: list[Received] = []
        self._pending_lock = threading.Lock()
        self._arrived = threading.Event()
        self._closing = threading.Event()
        self._generation = config.generation_base
        self._flusher = threading.Thread(target=self._flush_forever, name="mqtt-reader-flush", daemon=True)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=config.client_id, protocol=mqtt.MQTTv5, reconnect_on_failure=True
        )
        if config.username:
            self.client.username_pw_set(config.username, password)
        self.client.manual_ack_set(True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = SESSION_NEVER_EXPIRES
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self._flusher.start()
        self.client.connect_async(self.config.host, self.config.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()

    def serve_acks(self) -> None:
        """Acknowledge what the server committed, until it says stop or its end of the pipe closes."""
        while True:
            try:
                message: tuple[Any, ...] = self.pipe.recv()
            except (EOFError, OSError):
                return
            if message[0] == "stop":
                return
            _, generation, mids = message
            if generation == self._generation:
                for mid in mids:
                    self.client.ack(mid, 1)

    def close(self) -> None:
        self._closing.set()
        self._arrived.set()
        self._flusher.join(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            try:
                self.pipe.send(message)
            except (BrokenPipeError, OSError):
                self._closing.set()  # the server is gone: serve_acks sees it too and ends the process

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode, _props: object
    ) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        self._generation += 1
        client.subscribe(self.config.topic_filter, qos=1)

    def _on_subscribe(self, *_args: object) -> None:
        self._send(("subscribed", self._generation))

    def _on_disconnect(self, *_args: object) -> None:
        if not self._closing.is_set():
            self._send(("disconnected",))

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        received = Received(self._generation, message.mid, message.qos, message.topic, bytes(message.payload))
        with self._pending_lock:
            self._pending.append(received)
            full = len(self._pending) >= SEND_AT
            if full:
                batch, self._pending = self._pending, []
        if full:  # under load paho's thread keeps the GIL busy and the flusher would seldom get it
            self._send(("batch", batch))
        else:
            self._arrived.set()

    def _flush_forever(self) -> None:
        """Send what arrived, a batch per trip (see ``FLUSH_AFTER``)."""
        while not self._closing.is_set():
            self._arrived.wait(timeout=0.5)
            self._arrived.clear()
            with self._pending_lock:
                batch, self._pending = self._pending, []
            if batch:
                self._send(("batch", batch))
            if len(batch) >= FLUSH_AFTER:
                self._closing.wait(FLUSH_SECONDS)


if __name__ == "__main__":  # run through the module's own name, so that pickles name its classes as the server does
    from tradeoff.platform.mqtt_reader import main as reader_main

    sys.exit(reader_main(sys.argv[1:]))
