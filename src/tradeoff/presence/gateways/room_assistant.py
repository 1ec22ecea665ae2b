"""room-assistant (github.com/mKeRix/room-assistant, inactive since 2022): entity updates on
``room-assistant/entity/<instance>/<entityType>/<entityId>``.

A ``bluetooth-low-energy-presence-sensor`` entity holds every instance's latest view of one device:
``distances.<room>`` (distance, ``outOfRange``, ``lastUpdatedAt``) and ``measuredValues.<room>`` (``rssi``,
``measuredPower``). One message gives one sighting per room still in range, timed by that room's
``lastUpdatedAt``. The cluster's own room decision (``state``) is not kept: zones are decided here.
Entity ids are ``ble-<id>``: ``<uuid>-<major>-<minor>`` for iBeacons (uuid with or without dashes),
otherwise a peripheral id (a MAC without separators) — an anonymous device. The entity ``name`` is not kept.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.gateways.sighting import (
    Identity,
    Sighting,
    check_rssi,
    device,
    distance_or_none,
    ibeacon,
    power_or_none,
)

NAME = "room-assistant"
BLE_SENSOR = "bluetooth-low-energy-presence-sensor"
_IBEACON_ID = re.compile(r"^(?P<uuid>[0-9a-fA-F]{32}|[0-9a-fA-F\-]{36})-(?P<major>\d{1,5})-(?P<minor>\d{1,5})$")


def parse(payload: Any, *, topic: str | None, gateway: str, received_at: datetime) -> list[Sighting]:
    if topic is not None:
        parts = topic.split("/")
        if len(parts) < 3 or parts[-2] != BLE_SENSOR:
            return []  # other entity types, status topics
    if not isinstance(payload, dict) or not isinstance(payload.get("entity"), dict):
        raise InvalidInput("entity", "a room-assistant update is an object with an entity")
    entity = payload["entity"]
    entity_id = entity.get("id")
    if not isinstance(entity_id, str) or not entity_id.strip():
        raise InvalidInput("entity.id", "missing")
    distances = entity.get("distances")
    measured = entity.get("measuredValues")
    distances = distances if isinstance(distances, dict) else {}
    measured = measured if isinstance(measured, dict) else {}
    if not distances and not measured:
        raise InvalidInput("entity.distances", "neither distances nor measuredValues given")
    identity = identity_of(entity_id)
    out: list[Sighting] = []
    for room in sorted(set(distances) | set(measured)):
        seen = _object(distances.get(room))
        values = _object(measured.get(room))
        if seen.get("outOfRange") is True:
            continue  # this instance no longer hears it; the value is stale
        rssi = check_rssi(values.get("rssi"), f"entity.measuredValues.{room}.rssi")
        distance = distance_or_none(seen.get("distance"), f"entity.distances.{room}.distance")
        if rssi is None and distance is None:
            continue
        out.append(
            Sighting(
                dialect=NAME,
                gateway=gateway,
                identity=identity,
                at=_time(seen.get("lastUpdatedAt"), received_at, f"entity.distances.{room}.lastUpdatedAt"),
                rssi=rssi,
                room=str(room),
                measured_power=power_or_none(values.get("measuredPower"), "measuredPower", high=-1),
                distance_m=distance,
            )
        )
    return out


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def identity_of(entity_id: str) -> Identity:
    bare = entity_id.strip().removeprefix("ble-")
    match = _IBEACON_ID.match(bare)
    if match:
        return ibeacon(match["uuid"], match["major"], match["minor"])
    return device(bare)


def _time(value: Any, default: datetime, field: str) -> datetime:
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidInput(field, f"{value!r} is not an ISO time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not an ISO time") from None
    if parsed.tzinfo is None:
        raise InvalidInput(field, f"{value!r} has no time zone")
    return parsed
