"""The calibrated fingerprint model as a live ``ZoneEstimator``, and path-loss for what it does not cover.

``FingerprintZones`` wraps a ``StoreModel`` (``tradeoff presence calibrate``): the smoothed levels of the
receivers the model knows become one scan (a receiver not heard is *not heard*, NaN, exactly as in the
calibration scans), the kernel model gives a posterior over its classes, and a zone scores the summed
probability of its classes. Classes are mapped to zones by an explicit ``zones`` map (classes it leaves
out are in no zone: aisles, tills), else by the model's grid layout (3 × 3 cell blocks, ``Z-M01``, as
``tradeoff presence locate`` names them), else a class is its own zone (labels such as ``dairy``).
``receivers`` renames the model's beacon columns to live receiver keys (``ibeacon:<uuid>/<major>/<minor>``,
a gateway's room or external id) when the walk-through CSV named them otherwise.

A posterior always sums to 1 over the surveyed places, so something must say "not here at all": when no
known receiver is heard at least as loud as the weakest level it had in the survey (less ``margin_db``),
the scan is outside what was surveyed and scores nothing (the tracker then lets the entity leave).

``CombinedZones``: each installed model scores the receivers it covers; the other receivers go to the
path-loss estimator; a zone keeps its best score.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from tradeoff.presence.model.calibration import StoreModel
from tradeoff.presence.model.evidence import posterior
from tradeoff.presence.model.features import FloatArray, from_readings
from tradeoff.presence.model.layout import zone_name
from tradeoff.presence.tracking.zones import ZoneEstimator

DEFAULT_MARGIN_DB = 6.0
CACHE_SIZE = 4096
CACHE_STEP_DB = 0.25  # snapshots equal at this resolution share one evaluation


def class_zones(store: StoreModel, zones: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Each class of the model → its zone (``None``: in no zone), as described in the module docstring."""
    classes = [str(label) for label in store.model.classes_]
    if zones:
        return {label: zones.get(label) or None for label in classes}
    layout = store.layout
    if layout is not None:
        return {label: zone_name(float(x), float(y)) for label, (x, y) in zip(classes, layout.xy, strict=True)}
    return {label: label for label in classes}


@dataclass(slots=True)
class FingerprintZones:
    """``scores({receiver: dBm}) -> {zone: probability}`` from a calibrated store model."""

    store: StoreModel
    zones: Mapping[str, str] | None = None
    receivers: Mapping[str, str] | None = None
    margin_db: float = DEFAULT_MARGIN_DB
    _keys: tuple[tuple[str, str], ...] = field(init=False, repr=False)  # (model beacon, live receiver key)
    _floors: dict[str, float] = field(init=False, repr=False)  # model beacon → weakest surveyed level
    _names: tuple[str, ...] = field(init=False, repr=False)
    _membership: FloatArray = field(init=False, repr=False)  # classes × zones, 0/1
    _cache: OrderedDict[tuple[tuple[str, int], ...], dict[str, float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        renamed = dict(self.receivers or {})
        unknown = sorted(set(renamed) - set(self.store.beacons))
        if unknown:
            raise ValueError(f"receivers: {', '.join(unknown)} not among the model's beacons")
        self._keys = tuple((beacon, renamed.get(beacon, beacon)) for beacon in self.store.beacons)
        live = [key for _, key in self._keys]
        if len(set(live)) != len(live):
            raise ValueError("receivers: two of the model's beacons map to the same receiver")
        surveyed = self.store.model.fingerprints
        weakest = np.where(np.isnan(surveyed), np.inf, surveyed).min(axis=0, initial=np.inf)
        self._floors = {
            beacon: float(level)
            for beacon, level in zip(self.store.beacons, weakest, strict=True)
            if np.isfinite(level)
        }
        mapping = class_zones(self.store, self.zones)
        self._names = tuple(sorted({zone for zone in mapping.values() if zone is not None}))
        index = {zone: i for i, zone in enumerate(self._names)}
        self._membership = np.zeros((len(mapping), len(self._names)))
        for row, label in enumerate(str(c) for c in self.store.model.classes_):
            zone = mapping[label]
            if zone is not None:
                self._membership[row, index[zone]] = 1.0
        self._cache = OrderedDict()

    @property
    def covered(self) -> frozenset[str]:
        """The live receiver keys this model reads."""
        return frozenset(key for _, key in self._keys)

    @property
    def zone_names(self) -> tuple[str, ...]:
        return self._names

    def scan(self, rssi: Mapping[str, float]) -> dict[str, float]:
        """The snapshot as a scan in the model's beacon names (receivers it does not know are dropped)."""
        return {beacon: float(rssi[key]) for beacon, key in self._keys if key in rssi}

    def inside(self, scan: Mapping[str, float]) -> bool:
        """Is some known receiver heard about as loud as somewhere in the survey?"""
        floors = self._floors
        return any(level >= floors[beacon] - self.margin_db for beacon, level in scan.items() if beacon in floors)

    def scores(self, rssi: Mapping[str, float]) -> dict[str, float]:
        scan = self.scan(rssi)
        if not scan or not self.inside(scan):
            return {}
        key = tuple((beacon, round(level / CACHE_STEP_DB)) for beacon, level in sorted(scan.items()))
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return dict(found)
        matrix = from_readings([scan], self.store.beacons)
        probabilities = posterior(self.store.model.log_scores(matrix))[0]
        per_zone = np.clip(probabilities @ self._membership, 0.0, 1.0)
        result = {zone: float(score) for zone, score in zip(self._names, per_zone, strict=True)}
        self._cache[key] = result
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return dict(result)


@dataclass(slots=True)
class CombinedZones:
    """Fingerprint models for the receivers they cover, ``fallback`` (path-loss) for the rest."""

    fingerprints: Sequence[FingerprintZones]
    fallback: ZoneEstimator | None = None
    _covered: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._covered = frozenset().union(*(model.covered for model in self.fingerprints))

    def scores(self, rssi: Mapping[str, float]) -> dict[str, float]:
        rest = {key: level for key, level in rssi.items() if key not in self._covered}
        out = dict(self.fallback.scores(rest)) if self.fallback is not None and rest else {}
        if len(rest) == len(rssi):
            return out
        for model in self.fingerprints:
            for zone, score in model.scores(rssi).items():
                if score > out.get(zone, 0.0):
                    out[zone] = score
        return out
