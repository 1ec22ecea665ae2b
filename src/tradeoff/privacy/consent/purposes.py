"""Which consent purpose an event type needs when it concerns a shopper.

Capabilities extend the registry with their event types (``DEFAULT_EVENT_PURPOSES.register("presence.",
Purpose.ANALYTICS)``); a name ending in ``.`` is a prefix, the longest matching one wins, an exact name
beats any prefix. An event that names a subject but whose type is not registered is dropped (fail closed).
"""

from __future__ import annotations

from tradeoff.privacy.consent.model import Purpose


class EventPurposes:
    def __init__(self) -> None:
        self._exact: dict[str, Purpose] = {}
        self._prefixes: dict[str, Purpose] = {}

    def register(self, type_or_prefix: str, purpose: Purpose) -> None:
        table = self._prefixes if type_or_prefix.endswith(".") else self._exact
        known = table.get(type_or_prefix)
        if known is not None and known != purpose:
            raise ValueError(f"{type_or_prefix!r} already needs {known.value}")
        table[type_or_prefix] = purpose

    def purpose_for(self, event_type: str) -> Purpose | None:
        exact = self._exact.get(event_type)
        if exact is not None:
            return exact
        best: tuple[int, Purpose] | None = None
        for prefix, purpose in self._prefixes.items():
            if event_type.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), purpose)
        return None if best is None else best[1]


def default_event_purposes() -> EventPurposes:
    registry = EventPurposes()
    registry.register("presence.", Purpose.ANALYTICS)  # sightings, zones, dwell, visits
    registry.register("offers.", Purpose.PERSONALIZATION)  # triggers, deliveries, coupon views
    registry.register("coupons.", Purpose.PERSONALIZATION)
    registry.register("pos.basket.linked", Purpose.PURCHASE_LINKING)
    return registry


DEFAULT_EVENT_PURPOSES = default_event_purposes()
