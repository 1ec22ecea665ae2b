"""Sightings → ``presence.sighting`` envelopes with deterministic event ids.

The id must make an MQTT redelivery a duplicate, yet two real sightings must not collapse. Gateways send
no message id and most send no time, so the id hashes the dialect, gateway, room, identity and readings
with the payload's own time when it has one (room-assistant), else the receipt time cut to a window
(default 10 s): a redelivery within the window is a duplicate; identical readings within one window carry
nothing new for presence. A device's address never enters the id (a plain hash of a MAC is reversible by
brute force); ``DeviceKeyer``, a keyed daily hash the privacy core provides, keeps distinct devices apart.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any, Protocol

import orjson

from tradeoff.presence.gateways.sighting import EVENT_TYPE, Sighting
from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.subjects.pseudonyms import encode_mac

DEFAULT_WINDOW_S = 10


class DeviceKeyer(Protocol):
    def __call__(self, tenant_id: str, day: date, address: str) -> str:
        """A keyed, daily-rotating digest of an anonymous device's address (never the address)."""
        ...


def privacy_keyer(keys: KeyProvider) -> DeviceKeyer:
    """The keyer to wire: HMAC under the tenant's ``presence-device`` key, over the address and the day."""

    def keyer(tenant_id: str, day: date, address: str) -> str:
        return encode_mac(keys.mac(tenant_id, "presence-device", f"{address}|{day.isoformat()}".encode()))

    return keyer


def event_id(
    sighting: Sighting,
    *,
    tenant_id: str,
    received_at: datetime,
    window_s: int = DEFAULT_WINDOW_S,
    keyer: DeviceKeyer | None = None,
) -> str:
    payload = sighting.to_payload()
    identity = dict(payload["identity"])
    if sighting.identity.anonymous:
        identity.pop("device_mac", None)
        identity.pop("device_id", None)
        if keyer is not None:
            identity["key"] = keyer(tenant_id, sighting.at.date(), sighting.identity.id)
    payload["identity"] = identity
    payload.pop("subject", None)  # app reports carry their own ids; the gate re-keys those
    if sighting.at != received_at:
        when = sighting.at.isoformat()
    else:
        when = f"w{window_s}:{int(received_at.timestamp()) // max(window_s, 1)}"
    material = orjson.dumps({"p": payload, "t": when}, option=orjson.OPT_SORT_KEYS)
    return "sgt-" + hashlib.sha256(material).hexdigest()[:40]


def envelope(sighting: Sighting, *, event_id: str, source: str | None = None) -> dict[str, Any]:
    """The canonical envelope the pipeline validates (``EventIn`` fields)."""
    out: dict[str, Any] = {
        "event_id": event_id,
        "type": EVENT_TYPE,
        "occurred_at": sighting.at.isoformat(),
        "payload": sighting.to_payload(),
    }
    if source is not None:
        out["source"] = source
    return out
