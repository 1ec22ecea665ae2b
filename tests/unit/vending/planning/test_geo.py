import numpy as np
import pytest

from tradeoff.vending.planning.geo import DETOUR_FACTOR, SPEED_KMH, haversine_m, matrices, offset, road_m
from tradeoff.vending.planning.model import GeoPoint


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert haversine_m(GeoPoint(52.0, 4.0), GeoPoint(53.0, 4.0)) == pytest.approx(111_195, rel=1e-3)


def test_road_distance_applies_the_detour_factor() -> None:
    a, b = GeoPoint(52.0, 4.0), GeoPoint(52.01, 4.02)
    assert road_m(a, b) == pytest.approx(haversine_m(a, b) * DETOUR_FACTOR)


def test_matrices_are_symmetric_integer_metres_and_seconds() -> None:
    origin = GeoPoint(52.37, 4.89)
    points = [origin, offset(origin, east_m=3000, north_m=0), offset(origin, east_m=0, north_m=-4000)]
    distance, duration = matrices(points)
    assert distance.dtype == np.int64 and duration.dtype == np.int64
    assert (np.diag(distance) == 0).all() and (distance == distance.T).all()
    assert distance[0, 1] == pytest.approx(3000 * DETOUR_FACTOR, abs=2)
    assert duration[0, 1] == pytest.approx(distance[0, 1] / (SPEED_KMH / 3.6), abs=1)
