"""Structural checks on a routing problem, so bad input fails with the field and the reason, not deep in a solver.

What is checked here can never succeed as sent (wrong matrix shape, negative demand, a required stop heavier
than every truck). What is merely infeasible as a plan (a window nobody can reach) is reported by the solver
as ``feasible=False`` with reasons instead, see :mod:`tradeoff.vending.routing.reach`.
"""

from __future__ import annotations

import numpy as np

from tradeoff.core.errors import InvalidInput
from tradeoff.vending.routing.problem import RoutingProblem


def validate(problem: RoutingProblem) -> None:
    """Raise :class:`InvalidInput` naming the first field that makes ``problem`` unusable."""
    _check_matrices(problem)
    _check_vehicles(problem)
    _check_stops(problem)


def _check_matrices(problem: RoutingProblem) -> None:
    if problem.depots < 0 or (problem.depots == 0 and (problem.stops or problem.vehicles)):
        raise InvalidInput("depots", "at least one depot is needed when there are stops or vehicles")
    size = problem.num_locations
    for name in ("distance", "duration"):
        matrix = np.asarray(getattr(problem, name))
        if matrix.shape != (size, size):
            raise InvalidInput(name, f"expected a {size}×{size} matrix (depots + stops), got shape {matrix.shape}")
        if not np.issubdtype(matrix.dtype, np.integer):
            raise InvalidInput(name, f"expected integers, got {matrix.dtype}")
        if size and int(matrix.min()) < 0:
            raise InvalidInput(name, "negative entries")
        if size and np.any(np.diagonal(matrix) != 0):
            raise InvalidInput(name, "the diagonal (a location to itself) must be 0")


def _check_vehicles(problem: RoutingProblem) -> None:
    names = [vehicle.name for vehicle in problem.vehicles]
    if len(set(names)) != len(names):
        raise InvalidInput("vehicles", "vehicle names must be unique (routes name their vehicle)")
    for index, vehicle in enumerate(problem.vehicles):
        field = f"vehicles[{index}] ({vehicle.name})"
        if not 0 <= vehicle.depot < problem.depots:
            raise InvalidInput(field, f"depot {vehicle.depot} is not one of the {problem.depots} depots")
        if vehicle.capacity < 0 or vehicle.max_distance < 0:
            raise InvalidInput(field, "capacity and max_distance must not be negative")
        if vehicle.shift_start > vehicle.shift_end:
            raise InvalidInput(field, "shift_start is after shift_end")


def _check_stops(problem: RoutingProblem) -> None:
    biggest = max((vehicle.capacity for vehicle in problem.vehicles), default=None)
    for index, stop in enumerate(problem.stops):
        field = f"stops[{index}] ({stop.key})"
        if stop.demand < 0 or stop.service < 0 or stop.prize < 0:
            raise InvalidInput(field, "demand, service and prize must not be negative")
        if stop.tw_early > stop.tw_late:
            raise InvalidInput(field, f"time window opens at {stop.tw_early} after it closes at {stop.tw_late}")
        if stop.required and biggest is None:
            raise InvalidInput("vehicles", f"no vehicle to serve required stop {stop.key!r}")
        if stop.required and biggest is not None and stop.demand > biggest:
            raise InvalidInput(field, f"demand {stop.demand} exceeds every vehicle's capacity (largest {biggest})")
