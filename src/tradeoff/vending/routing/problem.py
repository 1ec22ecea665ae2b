"""What a routing problem and its solution are, independent of the solver that produces them.

Locations ``0 .. len(depots)-1`` are depots, then one location per stop in ``stops`` order; both matrices are
indexed by location. Times are integer seconds from the plan's epoch; costs are integers (metres, or the
instance's own unit for benchmark files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

NO_LIMIT = 2**40  # an open time window / shift end (large, but safe in PyVRP's int64 arithmetic)


@dataclass(frozen=True)
class Vehicle:
    """One truck: where it starts and ends, what it carries, when it works."""

    name: str
    capacity: int
    depot: int = 0
    shift_start: int = 0
    shift_end: int = NO_LIMIT
    max_distance: int = NO_LIMIT


@dataclass(frozen=True)
class Stop:
    """A place to visit. ``required=False`` makes it optional: it is worth ``prize`` if visited."""

    key: str
    demand: int
    service: int = 0
    tw_early: int = 0
    tw_late: int = NO_LIMIT
    required: bool = True
    prize: int = 0


@dataclass(frozen=True)
class RoutingProblem:
    """Depots, stops and trucks over one distance and one duration matrix (indexed by location)."""

    depots: int
    stops: Sequence[Stop]
    vehicles: Sequence[Vehicle]
    distance: npt.NDArray[np.int64]
    duration: npt.NDArray[np.int64]

    @property
    def num_locations(self) -> int:
        return self.depots + len(self.stops)

    def location(self, stop: int) -> int:
        """The matrix index of stop ``stop`` (an index into ``stops``)."""
        return self.depots + stop


@dataclass(frozen=True)
class Route:
    """One truck's tour: depot → ``stops`` → depot, with the schedule it follows."""

    vehicle: str
    stops: tuple[int, ...]  # indices into ``problem.stops`` in visiting order
    arrivals: tuple[int, ...]  # service start time at each stop (seconds)
    start: int  # leaves the depot
    end: int  # back at the depot
    distance: int
    load: int


@dataclass(frozen=True)
class RoutingSolution:
    """Routes plus what was left out. ``unserved`` lists every stop not visited (optional ones normally;
    a required one only when ``feasible`` is False). ``meta["violations"]`` says why a solution is infeasible."""

    routes: tuple[Route, ...]
    distance: int
    unserved: tuple[int, ...]  # optional stops left out
    prize_lost: int
    feasible: bool
    seconds: float
    solver: str = "pyvrp"
    meta: dict[str, object] = field(default_factory=dict)
