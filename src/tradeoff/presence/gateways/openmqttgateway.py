"""OpenMQTTGateway / Theengs Gateway: ``home/<gateway>/BTtoMQTT/<MAC>`` (and ``…/undecoded``) → a sighting.

Shapes accepted:
- old OMG: ``{"id": "45:F6:…", "rssi": -55, "txpower": 12, "distance": 0.49}`` (``txpower`` is the
  advertised TX power level);
- Theengs decoded: ``{"id", "rssi", "brand", "model", "model_id", …}``; ``model_id: "IBEACON"`` carries
  ``uuid`` (no dashes), ``major``, ``minor`` and ``txpower`` = the 1 m measured power;
- undecoded: ``manufacturerdata`` (hex, company id first) and/or ``servicedata`` + ``servicedatauuid``,
  which we decode ourselves (iBeacon, AltBeacon, Eddystone); anything else is an anonymous device.
Names (``name``: "[LG] webOS TV…", a phone's name) are never kept; ``model_id`` becomes the device class.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.ble import FrameError, decode_manufacturer_data, decode_service_data
from tradeoff.presence.ble.frames import EddystoneTLMFrame, Frame
from tradeoff.presence.gateways.sighting import (
    Identity,
    Sighting,
    check_rssi,
    device,
    distance_or_none,
    ibeacon,
    identity_of_frame,
    number_or_none,
    one_metre_power,
    power_or_none,
)

NAME = "omg"
GATEWAY_TOPIC_PART = "BTtoMQTT"


def parse(payload: Any, *, topic: str | None, gateway: str, received_at: datetime) -> list[Sighting]:
    room: str | None = None
    if topic is not None:
        parts = topic.split("/")
        if GATEWAY_TOPIC_PART not in parts:
            return []  # SYStoMQTT, LWT, commands: no sightings
        index = parts.index(GATEWAY_TOPIC_PART)
        room = parts[index - 1] if index >= 1 and parts[index - 1] else None
    if not isinstance(payload, dict):
        raise InvalidInput("payload", "an OpenMQTTGateway message is a JSON object")
    address = payload.get("id") or payload.get("mac")
    if not isinstance(address, str) or not address.strip():
        raise InvalidInput("id", "missing device address")
    rssi = check_rssi(payload.get("rssi"))
    distance = distance_or_none(payload.get("distance"))
    if rssi is None and distance is None:
        raise InvalidInput("rssi", "neither rssi nor distance given")
    identity, frame, measured = _identity(payload, address)
    tx_level = None if str(payload.get("model_id", "")).upper() == "IBEACON" else payload.get("txpower")
    volts = number_or_none(payload.get("volt"), "volt")
    battery_mv = None if volts is None else round(volts * 1000)
    temperature = number_or_none(payload.get("tempc"), "tempc")
    if isinstance(frame, EddystoneTLMFrame):
        battery_mv = frame.battery_mv if frame.battery_mv is not None else battery_mv
        temperature = frame.temperature_c if frame.temperature_c is not None else temperature
    return [
        Sighting(
            dialect=NAME,
            gateway=gateway,
            identity=identity,
            at=received_at,
            rssi=rssi,
            room=room,
            measured_power=measured,
            tx_power=power_or_none(tx_level, "txpower", low=-100, high=20),
            distance_m=distance,
            battery_mv=battery_mv,
            battery_pct=number_or_none(payload.get("batt"), "batt"),
            temperature_c=temperature,
        )
    ]


def _identity(payload: dict[str, Any], address: str) -> tuple[Identity, Frame | None, int | None]:
    """The beacon the payload names (decoded by Theengs, or by us from raw data), else the device."""
    model_id = str(payload.get("model_id", "")).upper()
    if model_id == "IBEACON" and payload.get("uuid") is not None:
        identity = ibeacon(str(payload["uuid"]), payload.get("major"), payload.get("minor"))
        return identity, None, power_or_none(payload.get("txpower"), "txpower", high=-1)
    frame = _frame(payload)
    if frame is not None:
        named = identity_of_frame(frame)
        if named is not None:
            return named, frame, one_metre_power(frame)
    return device(address, model_id.lower() or "mac"), frame, None


def _frame(payload: dict[str, Any]) -> Frame | None:
    mfr = payload.get("manufacturerdata")
    if isinstance(mfr, str) and mfr:
        try:
            return decode_manufacturer_data(mfr, strict_power=False)
        except FrameError:
            pass  # a phone's or sensor's manufacturer data: not a beacon
    service, uuid = payload.get("servicedata"), str(payload.get("servicedatauuid", "")).lower()
    if isinstance(service, str) and service and uuid.removeprefix("0x") in ("feaa", "aafe"):
        try:
            return decode_service_data(0xFEAA, service)
        except FrameError:
            return None
    return None
