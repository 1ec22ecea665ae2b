"""The bare subscriber behind the MQTT raw limit: QoS 1, automatic PUBACK, no database.

Run as ``python -m tradeoff.bench.mqtt_sink HOST PORT FILTER COUNT OUT READY``; it writes
``[[receive_time, index], ...]`` (monotonic clock, index of the event id) to OUT once COUNT arrived.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import uuid
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tradeoff.bench.workload import index_of
from tradeoff.platform.mqtt_reader import RECEIVE_MAXIMUM


def main(argv: list[str]) -> int:
    host, port, topic, count, out, ready = argv
    expected = int(count)
    received: list[tuple[float, int]] = []
    done = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        received.append((time.monotonic(), index_of(orjson.loads(message.payload)["event_id"])))
        if len(received) >= expected:
            done.set()

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"tradeoff-bench-sink-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    client.on_message = on_message
    client.on_subscribe = lambda *_args: Path(ready).touch()
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.ReceiveMaximum = RECEIVE_MAXIMUM  # the same window the platform's ingestor offers
    client.connect(host, int(port), keepalive=30, clean_start=True, properties=props)
    client.subscribe(topic, qos=1)
    signal.signal(signal.SIGTERM, lambda *_args: done.set())  # stop early, still write what arrived
    client.loop_start()
    done.wait(timeout=600)
    client.disconnect()
    client.loop_stop()
    Path(out).write_bytes(orjson.dumps(received))
    return 0 if len(received) >= expected else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
