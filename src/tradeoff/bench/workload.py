"""The synthetic fleet the ingest benchmark sends: vending-machine telemetry with unique event ids.

Everything is built before the clock starts, so client-side JSON encoding is never measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson

EVENT_TYPE = "device.telemetry"
DEVICES = 50
_EPOCH = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)

T = TypeVar("T")


def event_id(run: str, index: int) -> str:
    return f"{run}-{index:09d}"


def index_of(event_id_: str) -> int:
    """The position an ``event_id`` built by :func:`event_id` encodes."""
    return int(event_id_.rsplit("-", 1)[1])


def device_of(index: int) -> str:
    return f"vm-{index % DEVICES:03d}"


def make_event(run: str, index: int) -> dict[str, Any]:
    """One canonical envelope with a realistic ~150-byte payload."""
    return {
        "event_id": event_id(run, index),
        "type": EVENT_TYPE,
        "occurred_at": (_EPOCH + timedelta(milliseconds=index)).isoformat().replace("+00:00", "Z"),
        "source": device_of(index),
        "schema_version": 1,
        "payload": {
            "temp_c": round(3.5 + (index % 40) / 10, 1),
            "door_open": index % 17 == 0,
            "compressor_on": index % 3 != 0,
            "power_w": 60 + index % 25,
            "rssi_dbm": -55 - index % 30,
            "firmware": "2.4.1",
            "slot_levels": [index % 9, (index + 3) % 9, (index + 5) % 9, (index + 7) % 9],
        },
    }


def make_events(run: str, count: int, *, start: int = 0) -> list[dict[str, Any]]:
    return [make_event(run, index) for index in range(start, start + count)]


def chunks(items: list[T], size: int) -> list[list[T]]:
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [items[i : i + size] for i in range(0, len(items), size)]


def http_bodies(events: list[dict[str, Any]], batch: int) -> list[bytes]:
    """Request bodies for ``POST /v1/events``: ``{"events": [...]}`` of ``batch`` envelopes each."""
    return [orjson.dumps({"events": chunk}) for chunk in chunks(events, batch)]


def storage_rows(
    events: list[dict[str, Any]], *, tenant_id: str, received_at: datetime, transport: str
) -> list[dict[str, Any]]:
    """The ``events`` table rows the pipeline would store for these envelopes (the raw-insert baseline)."""
    return [
        {
            "tenant_id": tenant_id,
            "event_id": event["event_id"],
            "type": event["type"],
            "schema_version": event["schema_version"],
            "source": event["source"],
            "occurred_at": datetime.fromisoformat(event["occurred_at"]),
            "received_at": received_at,
            "transport": transport,
            "payload": event["payload"],
        }
        for event in events
    ]


@dataclass(frozen=True, slots=True)
class MqttMessage:
    topic: str
    payload: bytes


def mqtt_messages(events: list[dict[str, Any]], *, prefix: str, tenant_slug: str) -> list[MqttMessage]:
    """One event per message on ``<prefix>/<tenant>/<device>/<type>``; the topic implies type and source."""
    out = []
    for event in events:
        body = {key: value for key, value in event.items() if key not in ("type", "source")}
        topic = f"{prefix}/{tenant_slug}/{event['source']}/{event['type']}"
        out.append(MqttMessage(topic, orjson.dumps(body)))
    return out
