"""Beacon status from ``presence.sighting`` events: last seen, RSSI, gateway, battery and temperature.

Only beacons the merchant registered get a row: any other identity (phones, tags, a neighbour's beacon)
is skipped, so this projection never learns about people. Exactly once comes from the bus (effects and
checkpoint in one transaction); within that, the newest reading wins by event time, so events applied
out of order never move a status backwards, and battery readings keep their own time (a sighting
without TLM does not erase the last battery level).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, tuple_, update

from tradeoff.core.errors import InvalidInput
from tradeoff.core.events import Event
from tradeoff.presence.gateways.sighting import EVENT_TYPE, Sighting
from tradeoff.presence.setup.beacons import BEACON_KINDS
from tradeoff.presence.setup.store import setup_beacon_status, setup_beacons


@dataclass
class _Update:
    """One beacon's readings within a batch."""

    tenant_id: str
    latest: Sighting
    count: int = 0
    battery: Sighting | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, sighting: Sighting) -> None:
        self.count += 1
        if sighting.at >= self.latest.at:
            self.latest = sighting
        if _has_battery(sighting) and (self.battery is None or sighting.at >= self.battery.at):
            self.battery = sighting


def _has_battery(sighting: Sighting) -> bool:
    return sighting.battery_mv is not None or sighting.battery_pct is not None or sighting.temperature_c is not None


def sighting_of(event: Event) -> Sighting | None:
    """The event as a beacon sighting with plausible readings (an implausible one becomes None), or None
    for a device or a payload this processor cannot read (skipped, never parked)."""
    identity = event.payload.get("identity")
    if not isinstance(identity, dict) or identity.get("kind") not in BEACON_KINDS:
        return None
    try:
        sighting = Sighting.from_event(payload=event.payload, occurred_at=event.occurred_at, source=event.source)
    except (InvalidInput, TypeError, ValueError):
        return None
    return replace(
        sighting,
        rssi=_reading(sighting.rssi, -130, 20),
        battery_mv=None if (mv := _reading(sighting.battery_mv, 1, 20_000)) is None else round(mv),
        battery_pct=_reading(sighting.battery_pct, 0, 100),
        temperature_c=_reading(sighting.temperature_c, -128, 128),
        room=sighting.room if isinstance(sighting.room, str) else None,
    )


def _reading(value: object, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        return None
    return float(value)


class BeaconStatusProcessor:
    name = "presence_setup_beacon_status"
    event_types: frozenset[str] | None = frozenset({EVENT_TYPE})

    def apply(self, conn: Connection, events: Sequence[Event]) -> None:
        by_key: dict[tuple[str, str, str], _Update] = {}
        for event in events:
            sighting = sighting_of(event)
            if sighting is None:
                continue
            key = (event.tenant_id, sighting.identity.kind, sighting.identity.id)
            entry = by_key.get(key)
            if entry is None:
                entry = by_key[key] = _Update(event.tenant_id, sighting)
            entry.add(sighting)
        if not by_key:
            return
        b = setup_beacons
        known = {
            (row.tenant_id, row.kind, row.identity_id): row.id
            for row in conn.execute(
                select(b.c.id, b.c.tenant_id, b.c.kind, b.c.identity_id).where(
                    tuple_(b.c.tenant_id, b.c.kind, b.c.identity_id).in_(list(by_key))
                )
            )
        }
        updates = {known[key]: entry for key, entry in by_key.items() if key in known}
        if updates:
            _write(conn, updates)


def _write(conn: Connection, updates: dict[str, _Update]) -> None:
    s = setup_beacon_status
    current = {row.beacon_id: row for row in conn.execute(select(s).where(s.c.beacon_id.in_(list(updates))))}
    for beacon_id, entry in updates.items():
        row = current.get(beacon_id)
        values: dict[str, Any] = {}
        if row is None or entry.latest.at >= row.last_seen_at:
            values |= _seen(entry.latest)
        if entry.battery is not None and (row is None or row.battery_at is None or entry.battery.at >= row.battery_at):
            values |= _battery(entry.battery)
        if row is None:
            conn.execute(
                insert(s).values(beacon_id=beacon_id, tenant_id=entry.tenant_id, sightings_count=entry.count, **values)
            )
        else:
            values["sightings_count"] = s.c.sightings_count + entry.count
            conn.execute(update(s).where(s.c.beacon_id == beacon_id).values(**values))


def _seen(sighting: Sighting) -> dict[str, Any]:
    return {
        "last_seen_at": sighting.at,
        "last_rssi": sighting.rssi,
        "last_gateway": sighting.gateway[:128],
        "last_room": sighting.room[:128] if sighting.room else None,
    }


def _battery(sighting: Sighting) -> dict[str, Any]:
    at: datetime = sighting.at
    return {
        "battery_mv": sighting.battery_mv,
        "battery_pct": sighting.battery_pct,
        "temperature_c": sighting.temperature_c,
        "battery_at": at,
    }
