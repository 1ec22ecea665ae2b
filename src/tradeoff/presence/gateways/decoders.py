"""The gateway dialects as platform decoders: MQTT ``tradeoff/<tenant>/<device>/<decoder>`` with
``<decoder>`` one of ``espresense``, ``omg``, ``room-assistant``; ``<device>`` is the gateway.

A body is the dialect's JSON as the gateway published it, or, from a bridge that keeps the gateway's own
topic (which names the room or the beacon), ``{"topic": "<gateway topic>", "payload": <JSON or string>}``,
or a JSON array of either. Topics that carry no sightings (status, telemetry) yield no events; an
unreadable message raises ``InvalidInput`` and is dead-lettered whole by the pipeline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from tradeoff.core.errors import InvalidInput
from tradeoff.platform.ingest.decoders import DecoderRegistry, parse_json
from tradeoff.platform.ingest.message import Candidate, RawMessage
from tradeoff.presence.gateways import espresense, openmqttgateway, room_assistant
from tradeoff.presence.gateways.events import DEFAULT_WINDOW_S, DeviceKeyer, envelope, event_id
from tradeoff.presence.gateways.sighting import Sighting

Parser = Callable[..., list[Sighting]]
DIALECTS: dict[str, Parser] = {
    espresense.NAME: espresense.parse,
    openmqttgateway.NAME: openmqttgateway.parse,
    room_assistant.NAME: room_assistant.parse,
}
MAX_ITEMS = 500


class GatewayDecoder:
    """One dialect; ``keyer`` (optional) separates anonymous devices in event ids without their address."""

    def __init__(
        self, name: str, parser: Parser, *, keyer: DeviceKeyer | None = None, window_s: int = DEFAULT_WINDOW_S
    ) -> None:
        self.name = name
        self.parser = parser
        self.keyer = keyer
        self.window_s = window_s

    def sightings(self, message: RawMessage) -> list[Sighting]:
        doc = parse_json(message.body)
        items = doc if isinstance(doc, list) else [doc]
        if len(items) > MAX_ITEMS:
            raise InvalidInput("body", f"at most {MAX_ITEMS} items per message; got {len(items)}")
        gateway = message.source or "unknown"
        out: list[Sighting] = []
        for index, item in enumerate(items):
            topic, payload = _unwrap(item, index if isinstance(doc, list) else None)
            out.extend(self.parser(payload, topic=topic, gateway=gateway, received_at=message.received_at))
        return out

    def decode(self, message: RawMessage) -> list[Candidate]:
        candidates: list[Candidate] = []
        for sighting in self.sightings(message):
            key = event_id(
                sighting,
                tenant_id=message.tenant_id,
                received_at=message.received_at,
                window_s=self.window_s,
                keyer=self.keyer,
            )
            candidates.append(Candidate(data=envelope(sighting, event_id=key, source=message.source)))
        return candidates


def _unwrap(item: Any, index: int | None) -> tuple[str | None, Any]:
    """``{"topic", "payload"}`` from a topic-keeping bridge, else the bare dialect payload."""
    if isinstance(item, dict) and set(item) == {"topic", "payload"}:
        topic, payload = item["topic"], item["payload"]
        where = "topic" if index is None else f"[{index}].topic"
        if not isinstance(topic, str) or not topic:
            raise InvalidInput(where, "must be a non-empty string")
        if isinstance(payload, str):
            # plain text ("online" on a status topic) stays a string: the dialect decides what it is
            with contextlib.suppress(orjson.JSONDecodeError):
                payload = orjson.loads(payload)
        return topic, payload
    return None, item


def register_decoders(
    registry: DecoderRegistry, *, keyer: DeviceKeyer | None = None, window_s: int = DEFAULT_WINDOW_S
) -> None:
    """Register ``espresense``, ``omg`` and ``room-assistant`` with the ingest pipeline."""
    for name, parser in DIALECTS.items():
        registry.register(GatewayDecoder(name, parser, keyer=keyer, window_s=window_s))


def decode_at(name: str, body: bytes, *, source: str, received_at: datetime, tenant_id: str = "t") -> list[Sighting]:
    """Parse one body in a dialect without a registry (tests, CLI replays)."""
    message = RawMessage(body=body, transport="mqtt", tenant_id=tenant_id, received_at=received_at, source=source)
    return GatewayDecoder(name, DIALECTS[name]).sightings(message)
