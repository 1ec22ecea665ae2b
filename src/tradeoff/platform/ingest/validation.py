"""Turn candidates into valid events or a precise (field, reason) rejection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from tradeoff.core.errors import InvalidInput
from tradeoff.core.events import MAX_PAYLOAD_BYTES, EventIn

_BATCH = TypeAdapter(list[EventIn])


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
    return _check(event, bound_source)


def validate_events(items: Sequence[Any], *, bound_sources: Sequence[str | None]) -> list[EventIn | InvalidInput]:
    """``validate_event`` for many items at once: each becomes an event or the rejection it would raise.

    The whole batch goes through pydantic in one call (the common, all-valid case is the hot path);
    only a batch holding an invalid item is validated again item by item to say which and why.
    """
    try:
        events = _BATCH.validate_python(items)
    except ValidationError:
        return [_outcome(validate_event, item, bound) for item, bound in zip(items, bound_sources, strict=True)]
    outcomes: list[EventIn | InvalidInput] = []
    for event, bound in zip(events, bound_sources, strict=True):
        try:
            outcomes.append(_check(event, bound))
        except InvalidInput as exc:
            outcomes.append(exc)
    return outcomes


def _outcome(validate: Callable[..., EventIn], item: Any, bound_source: str | None) -> EventIn | InvalidInput:
    try:
        return validate(item, bound_source=bound_source)
    except InvalidInput as exc:
        return exc


def _check(event: EventIn, bound_source: str | None) -> EventIn:
    """The rules beyond the envelope's schema."""
    if bound_source is not None and event.source != bound_source:
        raise InvalidInput("source", f"this credential may only send events as device {bound_source!r}")
    if event.source is None:
        raise InvalidInput("source", "required (the device or system that produced the event)")
    if len(orjson.dumps(event.payload)) > MAX_PAYLOAD_BYTES:
        raise InvalidInput("payload", f"larger than {MAX_PAYLOAD_BYTES} bytes once encoded")
    return event
