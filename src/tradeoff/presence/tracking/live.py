"""Live tracking: sightings → smoothed RSSI → zone scores (pluggable estimator) → zone state machine.

Who is tracked, and by what:
- an app sighting (``subject`` set): the subject's pseudonym is the entity; the beacon it heard is the
  receiver key (``ibeacon:<uuid>/<major>/<minor>``…) — the phone listens, beacons are the landmarks;
- a gateway sighting: the identity heard (a beacon tag, or an anonymous device's daily token) is the
  entity; the gateway's room (else the gateway) is the receiver key.
Only opted-in app users are people here; gateway entities are beacons or day-scoped anonymous devices.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tradeoff.presence.gateways.sighting import Sighting
from tradeoff.presence.tracking.events import PresenceEvent
from tradeoff.presence.tracking.smoothing import SmoothingBank, SmoothingConfig
from tradeoff.presence.tracking.tracker import TrackerConfig, ZoneTracker
from tradeoff.presence.tracking.zones import ZoneEstimator

KeyOf = Callable[[Sighting], tuple[str, str]]


def default_keys(sighting: Sighting) -> tuple[str, str]:
    """``(entity, receiver)`` as described in the module docstring."""
    if sighting.subject is not None:
        return f"subject:{sighting.subject}", sighting.identity.key
    return sighting.identity.key, sighting.receiver


class LiveTracker:
    def __init__(
        self,
        estimator: ZoneEstimator,
        *,
        smoothing: SmoothingConfig | None = None,
        config: TrackerConfig | None = None,
        keys: KeyOf = default_keys,
    ) -> None:
        self.estimator = estimator
        self.bank = SmoothingBank(smoothing)
        self.zones = ZoneTracker(config)
        self.keys = keys

    def observe(self, sighting: Sighting) -> list[PresenceEvent]:
        """One sighting (in time order per entity); a sighting without RSSI is ignored."""
        if sighting.rssi is None:
            return []
        entity, receiver = self.keys(sighting)
        self.bank.update(entity, receiver, sighting.at, sighting.rssi)
        scores = self.estimator.scores(self.bank.snapshot(entity, sighting.at))
        return self.zones.observe(entity, sighting.at, scores)

    def tick(self, now: datetime) -> list[PresenceEvent]:
        """Call every few seconds: exit timeouts, dwell marks and journey ends happen in silence."""
        events = self.zones.tick(now)
        for entity in self.bank.entities():
            if self.zones.state(entity) is None:
                self.bank.forget(entity)
        return events
