"""Small hand-made routing problems for the tests: points on a plane, rounded Euclidean distances."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tests.support.shared_data import shared_data
from tradeoff.vending.routing.problem import RoutingProblem, Stop, Vehicle

CVRP_DIR = shared_data("cvrp")


def matrix(points: Sequence[tuple[float, float]]) -> npt.NDArray[np.int64]:
    xy = np.asarray(points, dtype=np.float64)
    deltas = xy[:, None, :] - xy[None, :, :]
    return np.floor(np.hypot(deltas[..., 0], deltas[..., 1]) + 0.5).astype(np.int64)


def problem(
    stops: Sequence[Stop],
    points: Sequence[tuple[float, float]],
    vehicles: Sequence[Vehicle] = (Vehicle("t1", 10), Vehicle("t2", 10)),
    *,
    depots: int = 1,
) -> RoutingProblem:
    """``points`` are the depots' then the stops' coordinates; travel time equals distance."""
    distances = matrix(points)
    return RoutingProblem(depots, list(stops), list(vehicles), distances, distances.copy())


def square() -> RoutingProblem:
    """Depot at the origin, four stops on a 10×10 square, two trucks of 10."""
    stops = [Stop("a", 4), Stop("b", 4), Stop("c", 4), Stop("d", 4)]
    return problem(stops, [(0, 0), (10, 0), (10, 10), (0, 10), (-10, 0)])
