"""Beacons as the merchant registers them: identity, attached products, and what their status means.

Identities are the canonical ones of ``gateways.sighting`` (``ibeacon`` ``<uuid>/<major>/<minor>``,
``altbeacon`` ``<id1>/<id2>/<id3>``, ``eddystone`` ``<namespace>/<instance>``), so a sighting's
``identity`` finds its beacon by equality. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.gateways.sighting import Identity, altbeacon, eddystone, ibeacon

BEACON_KINDS = ("ibeacon", "eddystone", "altbeacon")
FRESH_WITHIN = timedelta(minutes=15)  # beacons advertise every 0.1-1 s; a gateway hears one within seconds
LOW_BATTERY_MV = 2500  # a CR2032 reads ~3000 mV new; beacons start failing around 2.2-2.4 V
LOW_BATTERY_PCT = 20.0
MAX_PRODUCTS = 50
MAX_CATEGORIES = 20
_PRODUCT = re.compile(r"^[\w.:/#+-]{1,64}$")
Health = Literal["fresh", "stale", "never", "low-battery"]


def identity_of(kind: str, value: str) -> Identity:
    """A beacon identity from its kind and one text field: the canonical id, or its parts separated by
    spaces, commas or slashes (``"<uuid> 1 2"``, ``"<namespace>/<instance>"``)."""
    parts = [part for part in re.split(r"[\s,/]+", value.strip()) if part]
    field = "id"
    if kind == "ibeacon" and len(parts) == 3:
        return ibeacon(*parts)
    if kind == "altbeacon" and len(parts) == 3:
        return altbeacon(*parts)
    if kind == "eddystone" and len(parts) == 2:
        return eddystone(*parts)
    if kind not in BEACON_KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(BEACON_KINDS)}; got {kind!r}")
    wanted = {"ibeacon": "uuid/major/minor", "altbeacon": "id1/id2/id3", "eddystone": "namespace/instance"}
    raise InvalidInput(field, f"a {kind} is named by {wanted[kind]}; got {value!r}")


def identity_from_parts(kind: str, fields: dict[str, Any]) -> Identity:
    """From separate fields (``uuid``, ``major``, ``minor`` / ``namespace``, ``instance`` / ``id1``…)."""
    names: dict[str, tuple[str, ...]] = {
        "ibeacon": ("uuid", "major", "minor"),
        "altbeacon": ("id1", "id2", "id3"),
        "eddystone": ("namespace", "instance"),
    }
    if kind not in names:
        raise InvalidInput("kind", f"must be one of {', '.join(BEACON_KINDS)}; got {kind!r}")
    missing = [name for name in names[kind] if fields.get(name) in (None, "")]
    if missing:
        raise InvalidInput(missing[0], f"required for a {kind} beacon")
    return identity_of(kind, " ".join(str(fields[name]) for name in names[kind]))


def check_products(values: list[str] | None, *, field: str, limit: int) -> list[str]:
    """SKUs or categories: trimmed, unique, in the order given."""
    out: list[str] = []
    for index, value in enumerate(values or []):
        text = value.strip() if isinstance(value, str) else ""
        if not _PRODUCT.match(text):
            raise InvalidInput(f"{field}[{index}]", "1-64 chars of letters, digits and . : / # + - _")
        if text not in out:
            out.append(text)
    if len(out) > limit:
        raise InvalidInput(field, f"at most {limit}")
    return out


def split_list(text: str) -> list[str]:
    """Form input ``"sku-1, sku-2"`` → ``["sku-1", "sku-2"]``."""
    return [part.strip() for part in re.split(r"[,\n]", text) if part.strip()]


def check_power(value: int | None) -> int | None:
    if value is not None and not -127 <= value <= -1:
        raise InvalidInput("measured_power", "dBm at 1 m is between -127 and -1")
    return value


@dataclass(frozen=True, slots=True)
class BeaconStatus:
    """What the gateways last said about a beacon (operational; from ``presence.sighting`` events)."""

    last_seen_at: datetime
    last_rssi: float | None
    last_gateway: str
    last_room: str | None
    battery_mv: int | None
    battery_pct: float | None
    temperature_c: float | None
    battery_at: datetime | None
    sightings_count: int

    @property
    def low_battery(self) -> bool:
        return (self.battery_mv is not None and self.battery_mv < LOW_BATTERY_MV) or (
            self.battery_pct is not None and self.battery_pct < LOW_BATTERY_PCT
        )


def health(status: BeaconStatus | None, now: datetime) -> Health:
    """One word for the map's colour: a low battery outranks staleness (it is usually why)."""
    if status is None:
        return "never"
    if status.low_battery:
        return "low-battery"
    return "fresh" if now - status.last_seen_at <= FRESH_WITHIN else "stale"
