"""Solve a :class:`RoutingProblem` with PyVRP and translate the answer back, schedule included.

Input that can never work raises :class:`~tradeoff.core.errors.InvalidInput` (see ``validate``). A problem
that is valid but cannot be fully served — a required stop nobody can reach in its window, too little fleet —
does not raise: the result has ``feasible=False`` and ``meta["violations"]`` says why, so the caller still
gets a plan for everything that can be served. Objective: total distance plus the prizes of optional stops
left out.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyvrp
from pyvrp import Model
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxRuntime

from tradeoff.vending.routing.checker import check
from tradeoff.vending.routing.problem import Route, RoutingProblem, RoutingSolution, Vehicle
from tradeoff.vending.routing.reach import unreachable
from tradeoff.vending.routing.validate import validate


@dataclass(frozen=True)
class _Fleet:
    """Identical vehicles become one PyVRP vehicle type; ``members`` are their indices in ``problem.vehicles``."""

    vehicle: Vehicle
    members: list[int]


def solve(problem: RoutingProblem, *, seconds: float, seed: int = 0) -> RoutingSolution:
    """Best plan PyVRP finds within ``seconds`` of search (model building comes on top)."""
    started = time.perf_counter()
    validate(problem)
    excluded = unreachable(problem)
    candidates = [index for index in range(len(problem.stops)) if index not in excluded]
    if not candidates:
        solution = _assemble(problem, (), started, excluded, pyvrp_feasible=True, notes=[])
    else:
        fleets = _fleets(problem.vehicles)
        model = _model(problem, candidates, fleets)
        data = model.data().replace(
            distance_matrices=[_sub(problem.distance, problem.depots, candidates)],
            duration_matrices=[_sub(problem.duration, problem.depots, candidates)],
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PenaltyBoundWarning)
            result = pyvrp.solve(data, MaxRuntime(seconds), seed=seed, collect_stats=False, display=False)
        notes = _pass_on(caught)
        routes = _routes(result.best, candidates, fleets, problem)
        feasible = result.best.is_feasible()
        solution = _assemble(problem, routes, started, excluded, pyvrp_feasible=feasible, notes=notes)
    return solution


def _pass_on(caught: list[warnings.WarningMessage]) -> list[str]:
    """PyVRP warns when its penalties hit their cap (usually an infeasible instance): that becomes a note on
    the result, where the caller looks for reasons; any other warning is raised again as it came."""
    notes: list[str] = []
    for warning in caught:
        if issubclass(warning.category, PenaltyBoundWarning):
            notes.append("PyVRP's penalties reached their cap: the instance is likely infeasible")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return sorted(set(notes))


def _fleets(vehicles: Sequence[Vehicle]) -> list[_Fleet]:
    fleets: dict[tuple[int, int, int, int, int], _Fleet] = {}
    for index, vehicle in enumerate(vehicles):
        key = (vehicle.capacity, vehicle.depot, vehicle.shift_start, vehicle.shift_end, vehicle.max_distance)
        fleets.setdefault(key, _Fleet(vehicle, [])).members.append(index)
    return list(fleets.values())


def _model(problem: RoutingProblem, candidates: list[int], fleets: list[_Fleet]) -> Model:
    """Depots, clients and vehicle types; the matrices are set on the data afterwards (no per-edge objects)."""
    model = Model()
    depots = [
        model.add_depot(model.add_location(0, 0, name=f"depot {d}"), name=f"depot {d}") for d in range(problem.depots)
    ]
    for index in candidates:
        stop = problem.stops[index]
        model.add_client(
            model.add_location(0, 0, name=stop.key),
            delivery=[stop.demand],
            service_duration=stop.service,
            tw_early=stop.tw_early,
            tw_late=stop.tw_late,
            prize=stop.prize,
            required=stop.required,
            name=stop.key,
        )
    for fleet in fleets:
        vehicle = fleet.vehicle
        model.add_vehicle_type(
            num_available=len(fleet.members),
            capacity=[vehicle.capacity],
            start_depot=depots[vehicle.depot],
            end_depot=depots[vehicle.depot],
            tw_early=vehicle.shift_start,
            tw_late=vehicle.shift_end,
            max_distance=vehicle.max_distance,
            name=vehicle.name,
        )
    return model


def _sub(matrix: npt.NDArray[np.int64], depots: int, candidates: list[int]) -> Any:
    """The matrix restricted to depots and the stops handed to PyVRP (its stubs type matrices loosely)."""
    keep = np.array([*range(depots), *(depots + index for index in candidates)], dtype=np.intp)
    return np.ascontiguousarray(np.asarray(matrix, dtype=np.int64)[np.ix_(keep, keep)])


def _routes(best: pyvrp.Solution, candidates: list[int], fleets: list[_Fleet], problem: RoutingProblem) -> list[Route]:
    """PyVRP routes → ours; arrival times are the service starts of PyVRP's own schedule."""
    taken = [0] * len(fleets)
    routes: list[tuple[int, Route]] = []
    for route in best.routes():
        fleet_index = route.vehicle_type()
        member = fleets[fleet_index].members[taken[fleet_index]]
        taken[fleet_index] += 1
        visits = [activity for activity in route.schedule() if activity.is_client()]
        mine = Route(
            vehicle=problem.vehicles[member].name,
            stops=tuple(candidates[activity.idx] for activity in visits),
            arrivals=tuple(activity.start_time for activity in visits),
            start=route.start_time(),
            end=route.end_time(),
            distance=route.distance(),
            load=sum(route.delivery()),
        )
        routes.append((member, mine))
    return [route for _, route in sorted(routes, key=lambda pair: pair[0])]


def _assemble(
    problem: RoutingProblem,
    routes: Sequence[Route],
    started: float,
    excluded: dict[int, str],
    *,
    pyvrp_feasible: bool,
    notes: list[str],
) -> RoutingSolution:
    visited = {index for route in routes for index in route.stops}
    unserved = tuple(index for index in range(len(problem.stops)) if index not in visited)
    draft = RoutingSolution(
        routes=tuple(routes),
        distance=sum(route.distance for route in routes),
        unserved=unserved,
        prize_lost=sum(problem.stops[i].prize for i in unserved if not problem.stops[i].required),
        feasible=False,
        seconds=0.0,
    )
    reasons = [why for index, why in sorted(excluded.items()) if problem.stops[index].required]
    violations = reasons + check(problem, draft)
    if not pyvrp_feasible and not violations:
        violations.append("PyVRP reports its best solution infeasible")
    return RoutingSolution(
        routes=draft.routes,
        distance=draft.distance,
        unserved=unserved,
        prize_lost=draft.prize_lost,
        feasible=not violations,
        seconds=time.perf_counter() - started,
        solver="pyvrp",
        meta={
            "violations": violations,
            "excluded": {problem.stops[i].key: why for i, why in excluded.items()},
            "notes": notes,
        },
    )
