"""Fingerprint zone model: RSSI scans → cell and zone, its grouped-CV evaluation and store calibration.

See ``docs/presence-model.md`` for the data, the grouping, the models compared and the measured accuracy.
"""

from tradeoff.presence.model.calibration import Location, StoreModel, calibrate, load, save
from tradeoff.presence.model.estimator import KernelFingerprint, KernelParams

__all__ = ["KernelFingerprint", "KernelParams", "Location", "StoreModel", "calibrate", "load", "save"]
