"""Calibration: a store's walk-through scans → a saved zone model, and locating a device with it.

The model file is plain JSON (format ``tradeoff-presence-model``, version 1): beacon order, cells, kernel
parameters and the calibration fingerprints (``null`` = not heard). No pickle: a model file from elsewhere
cannot run code, and it can be read and diffed by hand. It holds staff survey scans, no shopper data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from tradeoff.presence.model.estimator import KernelFingerprint, KernelParams
from tradeoff.presence.model.evaluation import select_kernel_params
from tradeoff.presence.model.evidence import decide, posterior
from tradeoff.presence.model.features import FloatArray, clean, from_readings
from tradeoff.presence.model.layout import Layout, zone_name

FORMAT = "tradeoff-presence-model"
VERSION = 1


@dataclass(frozen=True)
class Location:
    label: str
    probability: float
    zone: str | None
    xy: tuple[float, float] | None
    candidates: list[tuple[str, float]]
    beacons_heard: int


@dataclass
class StoreModel:
    beacons: tuple[str, ...]
    model: KernelFingerprint
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def layout(self) -> Layout | None:
        return Layout.from_labels(list(self.model.classes_))

    def locate(self, scans: Sequence[Mapping[str, float]], *, top: int = 3) -> Location:
        """Where a device is, from one or more scans taken while it stayed put (their evidence adds up)."""
        if not scans:
            raise ValueError("rssi: give at least one scan")
        unknown = sorted({beacon for scan in scans for beacon in scan} - set(self.beacons))
        if unknown and len(unknown) == len({beacon for scan in scans for beacon in scan}):
            raise ValueError(f"rssi: none of the beacons {', '.join(unknown)} is in this model")
        matrix = from_readings(scans, self.beacons)
        probabilities = posterior(self.model.log_scores(matrix).sum(axis=0, keepdims=True))
        layout = self.layout
        chosen = int(decide(probabilities, None if layout is None else layout.distances())[0])
        order = np.argsort(-probabilities[0])[:top]
        xy = None if layout is None else (float(layout.xy[chosen, 0]), float(layout.xy[chosen, 1]))
        return Location(
            label=str(self.model.classes_[chosen]),
            probability=float(probabilities[0, chosen]),
            zone=None if xy is None else zone_name(*xy),
            xy=xy,
            candidates=[(str(self.model.classes_[i]), float(probabilities[0, i])) for i in order],
            beacons_heard=int((~np.isnan(matrix)).any(axis=0).sum()),
        )


def calibrate(
    matrix: FloatArray,
    labels: npt.ArrayLike,
    beacons: Sequence[str],
    *,
    groups: npt.ArrayLike | None = None,
    seed: int = 0,
) -> StoreModel:
    """Fit the kernel model; with groups (visits or walk sessions) its parameters are chosen by grouped CV."""
    scans = clean(matrix)
    label_array = np.asarray(labels, dtype=str)
    if scans.shape != (len(label_array), len(beacons)):
        raise ValueError(f"expected {len(label_array)} scans × {len(beacons)} beacons, got {scans.shape}")
    info: dict[str, Any] = {"scans": len(label_array), "created_at": datetime.now(UTC).isoformat()}
    params = KernelParams()
    if groups is not None:
        group_codes = np.unique(np.asarray(groups, dtype=str), return_inverse=True)[1].astype(np.int64)
        params, table = select_kernel_params(scans, label_array, group_codes, seed=seed)
        info["groups"] = int(group_codes.max()) + 1
        info["selection"] = "grouped CV" if table else "defaults (fewer groups than folds)"
        if table:
            info["selection_score"] = min(score for _, score in table)
    else:
        info["selection"] = "defaults (no groups given)"
    model = KernelFingerprint(params).fit(scans, label_array)
    return StoreModel(tuple(beacons), model, info)


def to_json(store: StoreModel) -> bytes:
    return orjson.dumps(to_dict(store))


def to_dict(store: StoreModel) -> dict[str, Any]:
    model = store.model
    return {
        "format": FORMAT,
        "version": VERSION,
        "beacons": list(store.beacons),
        "classes": [str(label) for label in model.classes_],
        "layout": "grid" if store.layout is not None else None,
        "params": asdict(model.params),
        "fingerprints": [[None if np.isnan(v) else float(v) for v in row] for row in model.fingerprints],
        "classes_of_fingerprints": [int(code) for code in model.codes],
        "info": store.info,
    }


def from_json(data: bytes | str) -> StoreModel:
    document = orjson.loads(data)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    if document.get("version") != VERSION:
        raise ValueError(f"model version {document.get('version')!r} is not supported (expected {VERSION})")
    classes = [str(label) for label in document["classes"]]
    codes = np.asarray(document["classes_of_fingerprints"], dtype=np.int64)
    rows = [[np.nan if v is None else float(v) for v in row] for row in document["fingerprints"]]
    beacons = tuple(str(b) for b in document["beacons"])
    matrix = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(beacons))
    model = KernelFingerprint(KernelParams(**document["params"])).fit(matrix, np.asarray(classes)[codes])
    if list(model.classes_) != classes:
        raise ValueError("model file: every class needs at least one fingerprint")
    return StoreModel(beacons, model, dict(document.get("info") or {}))


def save(store: StoreModel, path: Path | str) -> None:
    Path(path).write_bytes(to_json(store))


def load(path: Path | str) -> StoreModel:
    return from_json(Path(path).read_bytes())
