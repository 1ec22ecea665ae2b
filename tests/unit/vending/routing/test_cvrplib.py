"""CVRPLIB reading: the published best-known routes recompute to the published costs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from tests.unit.vending.routing.builders import CVRP_DIR
from tradeoff.vending.routing.checker import check
from tradeoff.vending.routing.cvrplib import load_instance, load_solution
from tradeoff.vending.routing.problem import NO_LIMIT

needs_data = pytest.mark.skipif(not (CVRP_DIR / "bks.csv").is_file(), reason=f"no CVRPLIB data in {CVRP_DIR}")


def _bks() -> dict[str, int]:
    if not (CVRP_DIR / "bks.csv").is_file():
        return {}
    with (CVRP_DIR / "bks.csv").open(newline="") as handle:
        return {row["name"]: int(row["bks"]) for row in csv.DictReader(handle)}


@needs_data
@pytest.mark.parametrize("name", sorted(_bks()) or ["missing"])
def test_published_routes_recompute_to_the_bks(name: str) -> None:
    problem = load_instance(CVRP_DIR / f"{name}.vrp")
    solution = load_solution(CVRP_DIR / f"{name}.sol", problem)
    assert solution.distance == _bks()[name] == solution.meta["cost"]
    assert check(problem, solution) == []


@needs_data
def test_instance_shape_and_unlimited_fleet() -> None:
    problem = load_instance(CVRP_DIR / "A-n32-k5.vrp")
    assert problem.depots == 1 and len(problem.stops) == 31
    assert problem.distance.shape == (32, 32) and problem.distance.dtype == np.int64
    assert len(problem.vehicles) == 31 and {v.capacity for v in problem.vehicles} == {100}
    assert problem.stops[0].key == "2" and problem.stops[0].tw_late == NO_LIMIT
    assert len(load_instance(CVRP_DIR / "A-n32-k5.vrp", vehicles=5).vehicles) == 5


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tiny.vrp"
    path.write_text(body)
    return path


def test_nint_rounds_half_up_and_depot_may_be_any_node(tmp_path: Path) -> None:
    # Distances 2.5 and 3.5 round up under TSPLIB nint (banker's rounding would give 2 and 4).
    path = _write(
        tmp_path,
        "NAME : tiny\nTYPE : CVRP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\n"
        "NODE_COORD_SECTION\n1 2.5 0\n2 0 0\n3 0 3.5\nDEMAND_SECTION\n1 4\n2 0\n3 5\nDEPOT_SECTION\n2\n-1\nEOF\n",
    )
    problem = load_instance(path)
    assert [stop.key for stop in problem.stops] == ["1", "3"]
    assert [stop.demand for stop in problem.stops] == [4, 5]
    assert problem.distance[0].tolist() == [0, 3, 4]


def test_time_windows_and_service_times_are_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "NAME : tw\nTYPE : VRPTW\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\n"
        "NODE_COORD_SECTION\n1 0 0\n2 3 4\n3 6 8\nDEMAND_SECTION\n1 0\n2 1\n3 2\n"
        "SERVICE_TIME_SECTION\n1 0\n2 10\n3 10\nTIME_WINDOW_SECTION\n1 0 500\n2 20 40\n3 0 100\n"
        "DEPOT_SECTION\n1\n-1\nEOF\n",
    )
    problem = load_instance(path)
    assert (problem.stops[0].service, problem.stops[0].tw_early, problem.stops[0].tw_late) == (10, 20, 40)
    assert all(vehicle.shift_end == 500 for vehicle in problem.vehicles)
    assert problem.duration[0, 2] == 10
