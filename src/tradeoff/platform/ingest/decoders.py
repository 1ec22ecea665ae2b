"""Decoder registry: vendor formats (DEX, ESPresense, Square…) register here without touching the pipeline.

A decoder turns one raw message into candidate events. It raises ``InvalidInput`` when the whole
message is unreadable; per-event problems are left to the pipeline's validation.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from tradeoff.core.errors import InvalidInput
from tradeoff.platform.ingest.message import Candidate, RawMessage


class Decoder(Protocol):
    name: str

    def decode(self, message: RawMessage) -> list[Candidate]: ...


class DecoderRegistry:
    def __init__(self) -> None:
        self._decoders: dict[str, Decoder] = {}

    def register(self, decoder: Decoder) -> None:
        if decoder.name in self._decoders:
            raise ValueError(f"decoder {decoder.name!r} is already registered")
        self._decoders[decoder.name] = decoder

    def get(self, name: str) -> Decoder:
        try:
            return self._decoders[name]
        except KeyError:
            known = ", ".join(sorted(self._decoders))
            raise InvalidInput("format", f"unknown format {name!r}; known: {known}") from None

    def has(self, name: str) -> bool:
        return name in self._decoders

    def names(self) -> list[str]:
        return sorted(self._decoders)


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("body", f"not valid JSON ({exc})") from None


def _fill_from_transport(item: Any, message: RawMessage) -> Any:
    """Topic-implied type and source fill gaps; a conflicting value is left for validation to report."""
    if isinstance(item, dict):
        if message.type_hint is not None and "type" not in item:
            item["type"] = message.type_hint
        if message.source is not None and "source" not in item:
            item["source"] = message.source
    return item


class JsonBatchDecoder:
    """The canonical HTTP body: ``{"events": [envelope, …]}``."""

    name = "json-batch"

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events

    def decode(self, message: RawMessage) -> list[Candidate]:
        doc = parse_json(message.body)
        if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
            raise InvalidInput("events", 'body must be a JSON object with an "events" array')
        items = doc["events"]
        if not items:
            raise InvalidInput("events", "must contain at least one event")
        if len(items) > self.max_events:
            raise InvalidInput("events", f"at most {self.max_events} events per batch; got {len(items)}")
        if message.type_hint is None and message.source is None:
            return [Candidate(item) for item in items]  # nothing to fill in (HTTP with a tenant-wide key)
        return [Candidate(data=_fill_from_transport(item, message)) for item in items]


class JsonEventDecoder:
    """The canonical MQTT payload: one envelope object, or an array of them."""

    name = "json"

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events

    def decode(self, message: RawMessage) -> list[Candidate]:
        doc = parse_json(message.body)
        items = doc if isinstance(doc, list) else [doc]
        if len(items) > self.max_events:
            raise InvalidInput("body", f"at most {self.max_events} events per message; got {len(items)}")
        if len(items) == 1:
            return [Candidate(data=_fill_from_transport(items[0], message), raw=message.body)]
        return [Candidate(data=_fill_from_transport(item, message)) for item in items]


def default_registry(max_events: int) -> DecoderRegistry:
    registry = DecoderRegistry()
    registry.register(JsonBatchDecoder(max_events))
    registry.register(JsonEventDecoder(max_events))
    return registry
