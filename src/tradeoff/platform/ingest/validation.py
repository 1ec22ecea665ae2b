"""Turn candidates into valid events or a precise (field, reason) rejection."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from tradeoff.core.errors import InvalidInput
from tradeoff.core.events import MAX_PAYLOAD_BYTES, EventIn


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "event"


def validate_event(data: Any, *, bound_source: str | None) -> EventIn:
    """Validate one envelope; ``bound_source`` is the device a device-scoped credential speaks for."""
    if not isinstance(data, dict):
        raise InvalidInput("event", f"must be a JSON object, got {type(data).__name__}")
    try:
        event = EventIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidInput(_location(first["loc"]), first["msg"]) from None
    if bound_source is not None and event.source != bound_source:
        raise InvalidInput("source", f"this credential may only send events as device {bound_source!r}")
    if event.source is None:
        raise InvalidInput("source", "required (the device or system that produced the event)")
    if len(orjson.dumps(event.payload)) > MAX_PAYLOAD_BYTES:
        raise InvalidInput("payload", f"larger than {MAX_PAYLOAD_BYTES} bytes once encoded")
    return event
