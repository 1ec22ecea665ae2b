"""The payloads of vending events, read strictly: ``vending.dex_audit`` and ``vending.telemetry``.

``PayloadGate`` checks both at ingress, so a malformed one is dead-lettered with the field and the reason
before it is stored; the stock processor reads them with the same functions.

``vending.telemetry`` payload: one reading, or ``{"readings": [reading, ...]}`` (at most 500), where a
reading is one of
  ``{"kind": "slot_stock", "selection": "12", "units": 3}``       a slot sensor's count
  ``{"kind": "door", "open": true}``
  ``{"kind": "temperature", "celsius": 5.2}``
  ``{"kind": "fault", "code": "J1", "active": true, "message": "coin jam"}``  (active defaults to true)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tradeoff.core.errors import InvalidInput
from tradeoff.core.events import EventIn
from tradeoff.vending import validate
from tradeoff.vending.stock import COUNTER_FIELDS, Counters, Totals, opt_int

DEX_AUDIT = "vending.dex_audit"
TELEMETRY = "vending.telemetry"
MAX_READINGS = 500


@dataclass(frozen=True)
class SlotStock:
    selection: str
    units: int


@dataclass(frozen=True)
class Door:
    open: bool


@dataclass(frozen=True)
class Temperature:
    celsius: float


@dataclass(frozen=True)
class Fault:
    code: str
    active: bool
    message: str


Reading = SlotStock | Door | Temperature | Fault


def _int(field: str, value: Any, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"an integer; got {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidInput(field, f"at least {minimum}; got {value}")
    return value


def _bool(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, f"true or false; got {value!r}")
    return value


def _text(field: str, value: Any, limit: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(field, f"a non-empty string of at most {limit} characters; got {value!r}")
    return value.strip()


def _reading(where: str, item: Any) -> Reading:
    if not isinstance(item, Mapping):
        raise InvalidInput(where, "a reading object with a 'kind'")
    kind = item.get("kind")
    if kind == "slot_stock":
        selection = _text(f"{where}.selection", item.get("selection"), 16)
        try:
            validate.selection(selection)
        except InvalidInput as exc:
            raise InvalidInput(f"{where}.selection", exc.reason) from None
        return SlotStock(selection, _int(f"{where}.units", item.get("units"), 0))
    if kind == "door":
        return Door(_bool(f"{where}.open", item.get("open")))
    if kind == "temperature":
        celsius = item.get("celsius")
        if isinstance(celsius, bool) or not isinstance(celsius, int | float) or not -60 <= celsius <= 120:
            raise InvalidInput(f"{where}.celsius", f"a number of degrees Celsius within -60..120; got {celsius!r}")
        return Temperature(float(celsius))
    if kind == "fault":
        message = item.get("message", "")
        if not isinstance(message, str) or len(message) > 500:
            raise InvalidInput(f"{where}.message", "a string of at most 500 characters")
        active = _bool(f"{where}.active", item.get("active", True))
        return Fault(_text(f"{where}.code", item.get("code"), 64), active, message)
    raise InvalidInput(f"{where}.kind", f"one of slot_stock, door, temperature, fault; got {kind!r}")


def parse_telemetry(payload: Mapping[str, Any]) -> list[Reading]:
    if "readings" in payload:
        readings = payload["readings"]
        if not isinstance(readings, list) or not readings or len(readings) > MAX_READINGS:
            raise InvalidInput("payload.readings", f"a list of 1-{MAX_READINGS} readings")
        return [_reading(f"payload.readings[{i}]", item) for i, item in enumerate(readings)]
    return [_reading("payload", payload)]


# -- DEX audits -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditColumn:
    selection: str
    product: str | None
    price: int | None
    counters: Counters


@dataclass(frozen=True)
class Audit:
    serial: str | None
    read_at: datetime | None
    currency: str | None
    decimals: int | None
    totals: Totals
    columns: dict[str, AuditColumn]
    sha256: str | None
    checksum_valid: bool | None
    truncated: bool


def _opt_counter(field: str, value: Any) -> int | None:
    if value is None:
        return None
    number = opt_int(value)
    if number is None:
        raise InvalidInput(field, f"an integer counter or null; got {value!r}")
    return number


def _opt_text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] or None


def _read_at(value: Any) -> datetime | None:
    """Aware UTC, or naive: DEX clocks carry no offset, so the machine's own time zone places it later."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("payload.read_at", "an ISO 8601 date-time or null")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("payload.read_at", f"not an ISO 8601 date-time: {value!r}") from exc
    return parsed if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_audit(payload: Mapping[str, Any]) -> Audit:
    """The parts of the DEX parser's JSON that stock needs; extra keys are ignored, counters may be null.

    A column whose selection repeats keeps its last line (a DEX file lists a selection once; the parser
    already merges PA1/PA2 pairs). A column without a selection is skipped: it cannot be matched."""
    machine = payload.get("machine") or {}
    if not isinstance(machine, Mapping):
        raise InvalidInput("payload.machine", "an object with serial, model, asset")
    totals = payload.get("totals") or {}
    if not isinstance(totals, Mapping):
        raise InvalidInput("payload.totals", "an object {vends, value}")
    raw_columns = payload.get("columns")
    if not isinstance(raw_columns, list):
        raise InvalidInput("payload.columns", "a list of columns (may be empty)")
    columns: dict[str, AuditColumn] = {}
    for index, column in enumerate(raw_columns):
        where = f"payload.columns[{index}]"
        if not isinstance(column, Mapping):
            raise InvalidInput(where, "a column object")
        selection = _opt_text(column.get("selection"), 16)
        if selection is None:
            continue
        values = {name: _opt_counter(f"{where}.{name}", column.get(name)) for name in COUNTER_FIELDS}
        price = _opt_counter(f"{where}.price", column.get("price"))
        columns[selection] = AuditColumn(selection, _opt_text(column.get("product"), 64), price, Counters(**values))
    raw_checksum = payload.get("checksum")
    checksum: Mapping[str, Any] = raw_checksum if isinstance(raw_checksum, Mapping) else {}
    decimals = payload.get("decimals")
    return Audit(
        serial=_opt_text(machine.get("serial"), 64),
        read_at=_read_at(payload.get("read_at")),
        currency=_opt_text(payload.get("currency"), 3),
        decimals=decimals if isinstance(decimals, int) and not isinstance(decimals, bool) else None,
        totals=Totals(
            vends=_opt_counter("payload.totals.vends", totals.get("vends")),
            value=_opt_counter("payload.totals.value", totals.get("value")),
        ),
        columns=columns,
        sha256=_digest(payload.get("sha256")),
        checksum_valid=checksum.get("valid") if isinstance(checksum.get("valid"), bool) else None,
        truncated=payload.get("truncated") is True,
    )


def _digest(value: Any) -> str | None:
    """The audit's SHA-256 as plain hex (the decoder groups it with ':' to keep it clear of the PAN scrubber)."""
    if not isinstance(value, str):
        return None
    plain = value.replace(":", "").strip().lower()
    return plain[:64] or None


class PayloadGate:
    """Ingress gate: a vending event whose payload cannot be read is rejected (dead-lettered) whole."""

    name = "vending.payloads"

    def check(self, *, tenant_id: str, event: EventIn) -> EventIn | None:
        if event.type == TELEMETRY:
            parse_telemetry(event.payload)
        elif event.type == DEX_AUDIT:
            parse_audit(event.payload)
        return event
