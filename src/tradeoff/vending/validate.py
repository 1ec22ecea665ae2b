"""Field checks shared by the fleet services: each failure names the field and says why."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tradeoff.core.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_SELECTION = re.compile(r"^[A-Za-z0-9_.\-]{1,16}$")


def name(field: str, value: str, limit: int = 200) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput(field, "must not be empty")
    if len(cleaned) > limit:
        raise InvalidInput(field, f"at most {limit} characters")
    return cleaned


def coordinates(lat: float, lon: float) -> None:
    if not -90 <= lat <= 90:
        raise InvalidInput("lat", f"latitude must be within -90..90; got {lat}")
    if not -180 <= lon <= 180:
        raise InvalidInput("lon", f"longitude must be within -180..180; got {lon}")


def timezone(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput("timezone", f"unknown IANA time zone {value!r}") from exc


def clock(field: str, value: str) -> str:
    if not _CLOCK.match(value):
        raise InvalidInput(field, f"a time of day as HH:MM; got {value!r}")
    return value


def minutes_of(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def positive(field: str, value: float | None, *, allow_none: bool = False, allow_zero: bool = False) -> None:
    if value is None:
        if not allow_none:
            raise InvalidInput(field, "is required")
        return
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidInput(field, f"must be {'zero or more' if allow_zero else 'positive'}; got {value}")


def selection(value: str) -> str:
    if not _SELECTION.match(value):
        raise InvalidInput("selection", f"1-16 letters, digits, '_', '.' or '-'; got {value!r}")
    return value


def opening_hours(value: Mapping[str, Any]) -> dict[str, list[list[str]]]:
    """``{"mon": [["07:00", "19:00"]], ...}``: days not named are closed; an empty mapping is always open."""
    if not isinstance(value, Mapping):
        raise InvalidInput("opening_hours", "an object of day → list of [open, close] times")
    cleaned: dict[str, list[list[str]]] = {}
    for day, spans in value.items():
        if day not in DAYS:
            raise InvalidInput("opening_hours", f"unknown day {day!r} (use {', '.join(DAYS)})")
        if not isinstance(spans, list):
            raise InvalidInput(f"opening_hours.{day}", "a list of [open, close] pairs")
        out = []
        for span in spans:
            if not (isinstance(span, list | tuple) and len(span) == 2 and all(isinstance(t, str) for t in span)):
                raise InvalidInput(f"opening_hours.{day}", f'each span is ["HH:MM", "HH:MM"]; got {span!r}')
            start, end = clock(f"opening_hours.{day}", span[0]), clock(f"opening_hours.{day}", span[1])
            if minutes_of(end) <= minutes_of(start):
                raise InvalidInput(f"opening_hours.{day}", f"closes ({end}) before it opens ({start})")
            out.append([start, end])
        cleaned[day] = sorted(out)
    return cleaned
