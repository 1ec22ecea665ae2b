"""Road distance and driving time estimated from coordinates (no road network needed to plan).

Great-circle distance × a detour factor approximates street distance in a city (1.3 is the usual figure for
urban grids); driving time uses one average speed that includes traffic and parking. Both are integers
(metres, seconds) because the router works in integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tradeoff.vending.planning.model import GeoPoint

EARTH_RADIUS_M = 6_371_008.8
DETOUR_FACTOR = 1.3
SPEED_KMH = 30.0  # urban average for a service van, stops at lights and parking included


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def road_m(a: GeoPoint, b: GeoPoint, *, detour: float = DETOUR_FACTOR) -> float:
    """Estimated street distance in metres."""
    return haversine_m(a, b) * detour


def matrices(
    points: Sequence[GeoPoint], *, detour: float = DETOUR_FACTOR, speed_kmh: float = SPEED_KMH
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Distance (m) and duration (s) matrices between ``points``, rounded to integers."""
    lat = np.radians(np.array([p.lat for p in points], dtype=np.float64))
    lon = np.radians(np.array([p.lon for p in points], dtype=np.float64))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * detour
    seconds = metres / (speed_kmh / 3.6)
    return np.rint(metres).astype(np.int64), np.rint(seconds).astype(np.int64)


def offset(origin: GeoPoint, *, east_m: float, north_m: float) -> GeoPoint:
    """A point ``east_m``/``north_m`` metres from ``origin`` (flat-earth; fine within a city)."""
    lat = origin.lat + math.degrees(north_m / EARTH_RADIUS_M)
    lon = origin.lon + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(origin.lat))))
    return GeoPoint(lat=lat, lon=lon)
