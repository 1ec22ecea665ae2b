"""Read CVRPLIB / VRPLIB instances (``.vrp``) and solutions (``.sol``) into the routing model.

Conventions, as CVRPLIB's best-known solutions use them: computed Euclidean distances are rounded to the
nearest integer (TSPLIB ``nint``: ``floor(x + 0.5)``); durations equal distances; the fleet is unlimited
(one vehicle per client) unless ``vehicles`` is given. Time windows and service times are read when the
file has them (``TIME_WINDOW_SECTION``, ``SERVICE_TIME_SECTION``). Stop keys are the file's 1-based node
numbers; a ``.sol`` numbers nodes from 0 with the depot as 0, so ``.sol`` id k is node k + 1.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

import numpy as np
import numpy.typing as npt
import vrplib

from tradeoff.core.errors import InvalidInput
from tradeoff.vending.routing.problem import NO_LIMIT, RoutingProblem, RoutingSolution, Stop, Vehicle
from tradeoff.vending.routing.schedule import build_solution


def load_instance(path: str | PathLike[str], *, vehicles: int | None = None) -> RoutingProblem:
    """The instance at ``path`` with depots first, then one stop per client in file order."""
    raw = vrplib.read_instance(str(path))
    weights = _weights(raw)
    size = weights.shape[0]
    depots = [int(d) for d in np.atleast_1d(raw.get("depot", [0]))]
    clients = [node for node in range(size) if node not in set(depots)]
    order = np.array(depots + clients, dtype=np.intp)
    matrix = np.ascontiguousarray(weights[np.ix_(order, order)])
    demand = _column(raw, "demand", size, default=0)
    service = _column(raw, "service_time", size, default=0)
    windows = raw.get("time_window")
    stops = [
        Stop(
            key=str(node + 1),
            demand=int(demand[node]),
            service=int(service[node]),
            tw_early=int(windows[node][0]) if windows is not None else 0,
            tw_late=int(windows[node][1]) if windows is not None else NO_LIMIT,
        )
        for node in clients
    ]
    capacity = int(np.max(np.atleast_1d(raw.get("capacity", NO_LIMIT))))
    shift = (int(windows[depots[0]][0]), int(windows[depots[0]][1])) if windows is not None else (0, NO_LIMIT)
    count = vehicles if vehicles is not None else max(len(clients), 1)
    fleet = [Vehicle(f"v{i + 1}", capacity, shift_start=shift[0], shift_end=shift[1]) for i in range(count)]
    return RoutingProblem(depots=len(depots), stops=stops, vehicles=fleet, distance=matrix, duration=matrix.copy())


def load_solution(path: str | PathLike[str], problem: RoutingProblem) -> RoutingSolution:
    """A ``.sol`` file's routes on ``problem`` (earliest schedule); ``meta["cost"]`` is the cost it states."""
    raw = vrplib.read_solution(str(path))
    by_key = {stop.key: index for index, stop in enumerate(problem.stops)}
    routes: list[tuple[int, list[int]]] = []
    for number, route in enumerate(raw["routes"]):
        if number >= len(problem.vehicles):
            raise InvalidInput("routes", f"{len(raw['routes'])} routes but only {len(problem.vehicles)} vehicles")
        try:
            routes.append((number, [by_key[str(int(node) + 1)] for node in route]))
        except KeyError as exc:
            raise InvalidInput("routes", f"route {number + 1} names node {exc.args[0]}, not a client") from None
    return build_solution(problem, routes, seconds=0.0, solver="file", meta={"cost": raw.get("cost")})


def _weights(raw: dict[str, Any]) -> npt.NDArray[np.int64]:
    kind = str(raw.get("edge_weight_type", "EXPLICIT")).upper()
    weights = np.asarray(raw["edge_weight"], dtype=np.float64)
    if kind == "CEIL_2D":
        return np.ceil(weights).astype(np.int64)
    if kind == "FLOOR_2D":
        return np.floor(weights).astype(np.int64)
    return np.floor(weights + 0.5).astype(np.int64)  # TSPLIB nint (EUC_2D); explicit matrices are integers


def _column(raw: dict[str, Any], name: str, size: int, *, default: int) -> npt.NDArray[np.int64]:
    values = raw.get(name)
    if values is None:
        return np.full(size, default, dtype=np.int64)
    array = np.atleast_1d(np.asarray(values))
    if array.ndim > 1:  # multi-dimensional demand: this model has one load dimension
        array = array.sum(axis=1)
    if array.size == 1:  # one value for every node (e.g. SERVICE_TIME: 10)
        array = np.full(size, array.item())
    rounded: npt.NDArray[np.int64] = np.rint(array).astype(np.int64)
    return rounded
