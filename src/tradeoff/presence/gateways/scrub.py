"""Dead letters of gateway messages keep no device address or name.

The pipeline stores undecodable messages raw, before any gate sees them; the privacy gate's raw scrubber
knows fields *named* like a MAC, but gateways put addresses under ``id`` (OpenMQTTGateway), in ids
(``known:<mac>``, ``name:<phone name>``) and in topics (``…/BTtoMQTT/<MAC>``). Registered as an ingress
gate, this passes events through unchanged and cleans raw input and rejection reasons: every MAC-shaped
string goes, and in objects that look like sightings (they carry ``rssi``, ``distance`` or ``distances``)
``name`` and any ``id``/``mac`` that is not a store beacon's id go too.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from tradeoff.core.events import EventIn

MARKER = "[DEVICE REMOVED]"
_MAC = re.compile(
    r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[:\-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f])"
    r"|(?<![0-9A-Za-z\-])(?=[0-9]*[A-Fa-f])[0-9A-Fa-f]{12}(?![0-9A-Za-z\-])"  # bare; not a UUID's last group
)
_SIGHTING_KEYS = frozenset({"rssi", "distance", "distances", "measuredValues"})
_BEACON_IDS = ("ibeacon:", "altbeacon:", "eddy:")
_ADDRESS_KEYS = frozenset({"id", "mac"})


def scrub_addresses(text: str) -> str:
    return _MAC.sub(MARKER, text)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_addresses(value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if not isinstance(value, dict):
        return value
    sighting_like = not _SIGHTING_KEYS.isdisjoint(value) or isinstance(value.get("distances"), dict)
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = scrub_addresses(str(key))
        beacon_id = str(item).lower().startswith(_BEACON_IDS)
        if sighting_like and (key == "name" or (key in _ADDRESS_KEYS and not beacon_id)):
            out[name] = MARKER
        else:
            out[name] = _clean(item)
    return out


class GatewayAddressScrubber:
    """``IngressGate`` + ``RawScrubber``; register after the privacy gate."""

    name = "presence-dead-letters"

    def check(self, *, tenant_id: str, event: EventIn) -> EventIn | None:
        return event

    def scrub_raw(self, raw: bytes) -> bytes:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            text = raw.decode("utf-8", errors="replace")
            cleaned = scrub_addresses(text)
            return raw if cleaned == text else cleaned.encode()
        cleaned_doc = _clean(doc)
        return raw if cleaned_doc == doc else orjson.dumps(cleaned_doc)

    def scrub_text(self, text: str) -> str:
        return scrub_addresses(text)
