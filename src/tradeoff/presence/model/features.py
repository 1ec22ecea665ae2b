"""RSSI fingerprint vectors: one row per scan, one column per beacon, NaN where the beacon was not heard.

Scanners write "not heard" in several ways (-200 in the UCI data, also -198/-199, empty cells, 0 on some
gateways). Keeping it as NaN rather than a fake dBm value lets each model decide what silence means: the
kernel model treats a beacon heard on one side only as a fixed mismatch cost, kNN baselines fill a floor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Readings at or below this are sentinels, not signals (real BLE RSSI stays above about -110 dBm).
NOT_HEARD_BELOW = -150.0
#: The dBm floor the kNN baselines substitute for "not heard" (a little under the weakest real reading).
FLOOR_DBM = -105.0


def clean(values: npt.ArrayLike) -> FloatArray:
    """Readings → float matrix with NaN for not heard (sentinels, blanks, 0 and positive values)."""
    array = np.array(values, dtype=np.float64, copy=True)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-d matrix of scans × beacons, got {array.ndim} dimension(s)")
    array[~np.isfinite(array) | (array <= NOT_HEARD_BELOW) | (array >= 0)] = np.nan
    return array


def from_readings(scans: Iterable[Mapping[str, float]], beacons: Sequence[str]) -> FloatArray:
    """Sparse ``{beacon: rssi}`` scans → matrix in the model's beacon order; unknown beacons are ignored."""
    index = {beacon: i for i, beacon in enumerate(beacons)}
    rows = []
    for scan in scans:
        row = np.full(len(beacons), np.nan)
        for beacon, rssi in scan.items():
            if beacon in index:
                row[index[beacon]] = rssi
        rows.append(row)
    return clean(np.array(rows).reshape(len(rows), len(beacons)))


def heard(matrix: FloatArray) -> npt.NDArray[np.bool_]:
    return ~np.isnan(matrix)


def dense(matrix: FloatArray, floor: float = FLOOR_DBM) -> FloatArray:
    """Not heard → ``floor`` dBm: the usual input of a plain kNN."""
    return np.where(np.isnan(matrix), floor, np.maximum(matrix, floor))


def exponential(matrix: FloatArray, floor: float = FLOOR_DBM, alpha: float = 24.0) -> FloatArray:
    """Torres-Sospedra's exponential representation: strong readings dominate, silence is exactly 0."""
    positive = np.where(np.isnan(matrix), 0.0, np.maximum(matrix - floor, 0.0))
    return np.where(positive > 0, np.exp(positive / alpha) / np.exp(-floor / alpha), 0.0)


def powed(matrix: FloatArray, floor: float = FLOOR_DBM, beta: float = float(np.e)) -> FloatArray:
    """Torres-Sospedra's powed representation: like exponential, with a power law."""
    positive = np.where(np.isnan(matrix), 0.0, np.maximum(matrix - floor, 0.0))
    return np.asarray(positive**beta / (-floor) ** beta, dtype=np.float64)
