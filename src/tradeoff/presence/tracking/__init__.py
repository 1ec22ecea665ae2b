"""Presence tracking: RSSI smoothing, zone estimation and the enter/exit/dwell state machine."""

from tradeoff.presence.tracking.events import (
    DwellReached,
    JourneyEnded,
    PresenceEvent,
    Visit,
    ZoneEntered,
    ZoneExited,
)
from tradeoff.presence.tracking.fingerprint import CombinedZones, FingerprintZones
from tradeoff.presence.tracking.live import LiveTracker, default_keys
from tradeoff.presence.tracking.smoothing import RssiFilter, SmoothingBank, SmoothingConfig
from tradeoff.presence.tracking.tracker import TrackerConfig, ZoneTracker
from tradeoff.presence.tracking.zones import PathLossZones, Receiver, ZoneEstimator, best_zone, distance_m

__all__ = [
    "CombinedZones",
    "DwellReached",
    "FingerprintZones",
    "JourneyEnded",
    "LiveTracker",
    "PathLossZones",
    "PresenceEvent",
    "Receiver",
    "RssiFilter",
    "SmoothingBank",
    "SmoothingConfig",
    "TrackerConfig",
    "Visit",
    "ZoneEntered",
    "ZoneEstimator",
    "ZoneExited",
    "ZoneTracker",
    "best_zone",
    "default_keys",
    "distance_m",
]
