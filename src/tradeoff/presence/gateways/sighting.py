"""The one sighting record every source (gateway dialect, app report, raw frame) is normalized to.

Identity kinds:
- ``ibeacon`` ``<uuid lower, dashed>/<major>/<minor>``, ``altbeacon`` ``<id1 as uuid>/<id2>/<id3>``,
  ``eddystone`` ``<namespace 20 hex>/<instance 12 hex>``, ``eddystone-url`` the URL, ``eddystone-eid`` the
  ephemeral id: store infrastructure, operational data.
- ``device``: anything else a gateway hears (phones, watches, tags). Its address is a personal identifier.
  In the event payload it sits under ``identity.device_mac`` / ``identity.device_id``, field names the
  privacy gate turns into keyed tokens that rotate daily (events without a subject) before storage, so a
  stored device sighting is countable within a day and not linkable across days. The address never
  enters the event id; a device's name is never kept, only a coarse ``device_class``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, get_args

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.ble.frames import (
    AltBeaconFrame,
    EddystoneEIDFrame,
    EddystoneUIDFrame,
    EddystoneURLFrame,
    Frame,
    IBeaconFrame,
)

EVENT_TYPE = "presence.sighting"
IdentityKind = Literal["ibeacon", "altbeacon", "eddystone", "eddystone-url", "eddystone-eid", "device"]
KINDS: tuple[str, ...] = get_args(IdentityKind)
RSSI_RANGE = (-130.0, 20.0)
_UUID = re.compile(r"^[0-9a-f]{32}$")
_HEX = re.compile(r"^[0-9a-f]+$")
_MAC = re.compile(r"^[0-9a-f]{12}$")


@dataclass(frozen=True, slots=True)
class Identity:
    """What was heard. For ``device`` the ``id`` is the address as heard (or, read back from a stored
    event, the gate's daily token); it is never part of an event id or a log line."""

    kind: IdentityKind
    id: str
    device_class: str | None = None  # devices only: "mac", "apple", "msft", a gateway model id…

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def anonymous(self) -> bool:
        return self.kind == "device"

    def to_json(self) -> dict[str, Any]:
        if self.kind != "device":
            return {"kind": self.kind, "id": self.id}
        field = "device_mac" if _MAC.match(self.id) else "device_id"
        return {"kind": "device", field: self.id, "device_class": self.device_class or "unknown"}

    @classmethod
    def from_json(cls, data: Any) -> Identity:
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise InvalidInput("identity", "must be an object with a known kind")
        if data["kind"] == "device":
            value = data.get("device_mac") or data.get("device_id")
            if not isinstance(value, str) or not value:
                raise InvalidInput("identity.device_id", "missing")
            return cls("device", value, str(data.get("device_class") or "unknown"))
        value = data.get("id")
        if not isinstance(value, str) or not value:
            raise InvalidInput("identity.id", "missing")
        return cls(data["kind"], value)


def normalize_uuid(value: str, *, field: str = "uuid") -> str:
    """Any case, with or without dashes or braces → lower-case dashed."""
    digits = value.strip().strip("{}").replace("-", "").lower()
    if not _UUID.match(digits):
        raise InvalidInput(field, f"{value!r} is not a 128-bit UUID")
    return f"{digits[0:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"


def _u16(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(field, f"{value!r} is not an integer") from None
    if isinstance(value, bool) or not 0 <= number <= 0xFFFF or (isinstance(value, float) and value != number):
        raise InvalidInput(field, f"{value!r} is not in 0..65535")
    return number


def ibeacon(uuid: str, major: Any, minor: Any) -> Identity:
    return Identity("ibeacon", f"{normalize_uuid(uuid)}/{_u16(major, 'major')}/{_u16(minor, 'minor')}")


def altbeacon(id1: str, id2: Any, id3: Any) -> Identity:
    return Identity("altbeacon", f"{normalize_uuid(id1, field='id1')}/{_u16(id2, 'id2')}/{_u16(id3, 'id3')}")


def eddystone(namespace: str, instance: str) -> Identity:
    ns, inst = namespace.strip().lower().removeprefix("0x"), instance.strip().lower().removeprefix("0x")
    if len(ns) != 20 or not _HEX.match(ns):
        raise InvalidInput("namespace", f"{namespace!r} is not 10 bytes of hex")
    if len(inst) != 12 or not _HEX.match(inst):
        raise InvalidInput("instance", f"{instance!r} is not 6 bytes of hex")
    return Identity("eddystone", f"{ns}/{inst}")


def device(address: str, device_class: str | None = None) -> Identity:
    """An anonymous device; a MAC in any notation becomes 12 lower-case hex digits."""
    value = address.strip().lower()
    digits = re.sub(r"[^0-9a-f]", "", value)
    if len(digits) == 12 and re.fullmatch(r"[0-9a-f]{2}([:\-]?[0-9a-f]{2}){5}", value):
        value = digits
    if not value:
        raise InvalidInput("id", "empty device address")
    return Identity("device", value, device_class or ("mac" if _MAC.match(value) else "unknown"))


def identity_of_frame(frame: Frame) -> Identity | None:
    """The beacon a frame names; ``None`` for telemetry frames (TLM) that name nothing."""
    if isinstance(frame, IBeaconFrame):
        return Identity("ibeacon", frame.key)
    if isinstance(frame, AltBeaconFrame):
        return Identity("altbeacon", frame.key)
    if isinstance(frame, EddystoneUIDFrame):
        return Identity("eddystone", frame.key)
    if isinstance(frame, EddystoneURLFrame):
        return Identity("eddystone-url", frame.url)
    if isinstance(frame, EddystoneEIDFrame):
        return Identity("eddystone-eid", frame.eid)
    return None


def one_metre_power(frame: Frame) -> int | None:
    """RSSI at 1 m: iBeacon/AltBeacon say it; Eddystone's 0 m power minus 41 dB."""
    if isinstance(frame, IBeaconFrame):
        return frame.measured_power
    if isinstance(frame, AltBeaconFrame):
        return frame.reference_rssi
    if isinstance(frame, EddystoneUIDFrame | EddystoneURLFrame | EddystoneEIDFrame):
        return frame.tx_power - 41
    return None


@dataclass(frozen=True, slots=True)
class Sighting:
    """One receiver heard one emitter once. ``gateway`` is the platform device that reported it (the
    MQTT topic's device, or ``app``); ``room`` is the receiver's own room/node name when the dialect
    gives one (ESPresense room, OMG gateway name, room-assistant instance)."""

    dialect: str
    gateway: str
    identity: Identity
    at: datetime
    rssi: float | None = None
    room: str | None = None
    measured_power: int | None = None  # dBm at 1 m
    tx_power: int | None = None  # advertised TX power level, as the gateway reported it
    distance_m: float | None = None  # when the gateway computed one
    battery_mv: int | None = None
    battery_pct: float | None = None
    temperature_c: float | None = None
    subject: str | None = None  # app reports only: the subject the privacy gate pseudonymizes

    @property
    def receiver(self) -> str:
        """What heard it: the dialect's room when it names one, else the gateway."""
        return self.room or self.gateway

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "dialect": self.dialect,
            "gateway": self.gateway,
            "identity": self.identity.to_json(),
        }
        for name in _OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                payload[name] = value
        return payload

    @classmethod
    def from_event(cls, *, payload: dict[str, Any], occurred_at: datetime, source: str | None = None) -> Sighting:
        """Back from a stored ``presence.sighting`` event (for processors)."""
        values = {name: payload[name] for name in _OPTIONAL if payload.get(name) is not None}
        return cls(
            dialect=str(payload.get("dialect", "unknown")),
            gateway=str(payload.get("gateway") or source or "unknown"),
            identity=Identity.from_json(payload.get("identity")),
            at=occurred_at,
            **values,
        )

    def with_identity(self, identity: Identity) -> Sighting:
        return replace(self, identity=identity)


_OPTIONAL = (
    "rssi", "room", "measured_power", "tx_power", "distance_m", "battery_mv", "battery_pct", "temperature_c",
    "subject",
)  # fmt: skip


def check_rssi(value: Any, field: str = "rssi") -> float | None:
    """A plausible RSSI in dBm, ``None`` when absent; ``InvalidInput`` when present but not a power."""
    if value is None:
        return None
    number = number_or_none(value, field)
    if number is None or not RSSI_RANGE[0] <= number <= RSSI_RANGE[1]:
        raise InvalidInput(field, f"{value!r} is not an RSSI in {RSSI_RANGE[0]:g}..{RSSI_RANGE[1]:g} dBm")
    return number


def number_or_none(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(field, f"{value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidInput(field, f"{value!r} is not a finite number")
    return number


def power_or_none(value: Any, field: str, *, low: int = -127, high: int = 20) -> int | None:
    """A calibrated power byte as a gateway reports it; out-of-range values (battery levels, 0 meaning
    'not set') become ``None`` rather than failing the sighting."""
    number = number_or_none(value, field)
    if number is None or not low <= number <= high or number == 0:
        return None
    return round(number)


def distance_or_none(value: Any, field: str = "distance") -> float | None:
    number = number_or_none(value, field)
    if number is None:
        return None
    if number < 0:
        raise InvalidInput(field, f"{value!r} is negative")
    return number
