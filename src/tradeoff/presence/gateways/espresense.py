"""ESPresense (github.com/ESPresense/ESPresense): ``espresense/devices/<id>/<room>`` → one sighting.

Payload fields (BleFingerprint.cpp ``fill()``): ``mac``, ``id``, ``rxAdj``, ``int``; when known ``name``,
``rssi@1m``, ``rssi`` (filtered), ``rssiVar``, ``distance``, ``var``, ``close``; sensors ``mV``, ``batt``,
``temp``, ``rh``. The legacy ESP32-mqtt-room shape (``idType``, ``raw``, ``speed``, ``interval``) and
Home Assistant's ``mqtt_room`` minimum (``id`` + ``distance``) read the same way.

Ids: ``iBeacon:<uuid>-<major>-<minor>``, ``altBeacon:<id1>-<id2>-<id3>``, ``eddy:<namespace>-<instance>``
are beacons; everything else (a bare MAC, ``apple:…``, ``msft:cdp:…``, ``md:…``, ``name:…``, ``irk:…``,
``known:<mac>``…) is an anonymous device whose prefix is kept as its class and whose MAC is its address.
Other topics (``espresense/rooms/…`` status, telemetry, settings) carry no sightings and yield nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.gateways.sighting import (
    Identity,
    Sighting,
    altbeacon,
    check_rssi,
    device,
    distance_or_none,
    eddystone,
    ibeacon,
    number_or_none,
    power_or_none,
)

NAME = "espresense"


def parse(payload: Any, *, topic: str | None, gateway: str, received_at: datetime) -> list[Sighting]:
    room: str | None = None
    if topic is not None:
        parts = topic.split("/")
        if len(parts) < 3 or parts[-3] != "devices":
            return []  # rooms/<room>/status, telemetry, settings: not sightings
        room = parts[-1] or None
    if not isinstance(payload, dict):
        raise InvalidInput("payload", "an ESPresense sighting is a JSON object")
    raw_id = payload.get("id")
    mac = payload.get("mac")
    if not isinstance(raw_id, str) or not raw_id.strip():
        if not isinstance(mac, str) or not mac.strip():
            raise InvalidInput("id", "missing (neither id nor mac)")
        raw_id = mac
    rssi = check_rssi(payload.get("rssi"))
    distance = distance_or_none(payload.get("distance"))
    if rssi is None and distance is None:
        raise InvalidInput("rssi", "neither rssi nor distance given")
    battery_mv = number_or_none(payload.get("mV"), "mV")
    return [
        Sighting(
            dialect=NAME,
            gateway=gateway,
            identity=identity_of(raw_id, mac if isinstance(mac, str) else None),
            at=received_at,
            rssi=rssi,
            room=room,
            measured_power=power_or_none(payload.get("rssi@1m"), "rssi@1m", high=-1),
            distance_m=distance,
            battery_mv=None if battery_mv is None else round(battery_mv),
            battery_pct=number_or_none(payload.get("batt"), "batt"),
            temperature_c=number_or_none(payload.get("temp"), "temp"),
        )
    ]


def identity_of(raw_id: str, mac: str | None = None) -> Identity:
    """ESPresense's id → a beacon identity, or an anonymous device (address: the MAC if given)."""
    prefix, sep, rest = raw_id.strip().partition(":")
    lowered = prefix.lower()
    if sep and lowered == "ibeacon":
        uuid, major, minor = _three(rest, "id")
        return ibeacon(uuid, major, minor)
    if sep and lowered == "altbeacon":
        id1, id2, id3 = _three(rest, "id")
        return altbeacon(id1, id2, id3)
    if sep and lowered == "eddy":
        namespace, dash, instance = rest.rpartition("-")
        if not dash:
            raise InvalidInput("id", f"{raw_id!r} is not eddy:<namespace>-<instance>")
        return eddystone(namespace, instance)
    device_class = lowered if sep else "mac"
    address = mac if mac and mac.strip() else (rest if lowered == "known" else raw_id)
    return device(address, device_class)


def _three(rest: str, field: str) -> tuple[str, str, str]:
    parts = rest.rsplit("-", 2)
    if len(parts) != 3:
        raise InvalidInput(field, f"{rest!r} is not <id>-<major>-<minor>")
    return parts[0], parts[1], parts[2]
