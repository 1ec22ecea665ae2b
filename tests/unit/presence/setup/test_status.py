"""The status processor skips what is not a registered beacon before touching the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tradeoff.core.events import Event
from tradeoff.presence.setup.status import BeaconStatusProcessor, sighting_of

AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def event(payload: dict[str, Any]) -> Event:
    return Event(1, "t", "e", "presence.sighting", 1, "gw-1", AT, AT, "http", payload)


def test_devices_and_unreadable_payloads_need_no_lookup() -> None:
    processor = BeaconStatusProcessor()
    assert processor.event_types == frozenset({"presence.sighting"})
    events = [
        event({"identity": {"kind": "device", "device_mac": "tokd_mac_x"}, "rssi": -50}),
        event({"zone": "entrance", "phone_mac": "tokd_mac_y", "rssi": -60}),  # not a Sighting payload
        event({"identity": {"kind": "ibeacon"}}),  # no id
        event({"identity": {"kind": "eddystone-url", "id": "https://example.com"}}),
    ]
    processor.apply(None, events)  # type: ignore[arg-type]  # returns before using the connection


def test_implausible_readings_are_dropped_not_stored() -> None:
    payload = {"dialect": "omg", "gateway": "gw-1", "identity": {"kind": "ibeacon", "id": "u/1/2"}}
    sighting = sighting_of(event({**payload, "rssi": "loud", "battery_mv": 2950.4, "battery_pct": 180, "room": 5}))
    assert sighting is not None and sighting.identity.key == "ibeacon:u/1/2"
    assert (
        sighting.rssi is None and sighting.battery_mv == 2950 and sighting.battery_pct is None and sighting.room is None
    )
    assert sighting_of(event({**payload, "rssi": -71, "temperature_c": 19.5})).rssi == -71.0  # type: ignore[union-attr]
