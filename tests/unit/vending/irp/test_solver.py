from __future__ import annotations

import pytest

from tests.unit.vending.irp.conftest import archetti
from tradeoff.vending.irp import check_solution, read_instance, solve
from tradeoff.vending.irp.generate import random_instance
from tradeoff.vending.irp.localsearch import improve
from tradeoff.vending.irp.matheuristic import visit_cost_search


def test_reproduces_the_published_optimum_of_abs1n5_h3_low() -> None:
    """1235.92 settles the conventions: NINT distances, holding over t = 1..H+1 with the initial stock."""
    inst = read_instance(archetti("Instances_lowcost_H3", "abs1n5"))
    result = solve(inst, seconds=20)
    assert result.optimal
    assert result.solution is not None
    report = check_solution(inst, result.solution)
    assert report.feasible, report.violations
    assert report.cost == pytest.approx(1235.92, abs=1e-6)
    assert result.cost == pytest.approx(report.cost)
    assert result.lower_bound == pytest.approx(1235.92, abs=1e-3)
    # with floor-rounded distances the same solution would cost less than the published value
    assert check_solution(inst, result.solution, rounding="floor").cost < 1235.92


def test_high_cost_abs1n10_h3() -> None:
    inst = read_instance(archetti("Instances_highcost_H3", "abs1n10"))
    result = solve(inst, seconds=20)
    assert result.solution is not None
    report = check_solution(inst, result.solution)
    assert report.feasible
    assert report.cost == pytest.approx(4510.61, abs=1e-6)


@pytest.mark.slow
def test_h6_abs1n10_low_reaches_the_reference() -> None:
    inst = read_instance(archetti("Instances_lowcost_H6", "abs1n10"))
    result = solve(inst, seconds=60)
    assert result.solution is not None
    # within the benchmark's 1 % target even on a loaded machine (alone it reaches 4141.53 in about 20 s)
    assert check_solution(inst, result.solution).cost <= 4141.53 * 1.01


def test_heuristics_alone_give_feasible_solutions_that_only_improve() -> None:
    import time

    inst = read_instance(archetti("Instances_highcost_H3", "abs1n10"))
    dist = inst.distances().tolist()
    start = visit_cost_search(inst, dist, deadline=time.monotonic() + 5)
    assert start is not None
    assert check_solution(inst, start.solution).feasible
    better = improve(inst, dist, start, deadline=time.monotonic() + 5)
    assert better.cost <= start.cost
    report = check_solution(inst, better.solution)
    assert report.feasible
    assert report.cost == pytest.approx(better.cost)


def test_a_medium_generated_instance_is_solved_feasibly_in_time() -> None:
    inst = random_instance(15, 3, seed=4)
    result = solve(inst, seconds=3)
    assert result.solution is not None
    assert check_solution(inst, result.solution).feasible
    assert result.seconds < 3 + 2.5


@pytest.mark.slow
@pytest.mark.parametrize(("n", "horizon"), [(30, 6), (50, 6)])
def test_large_generated_instances_get_a_feasible_solution_within_the_limit(n: int, horizon: int) -> None:
    inst = random_instance(n, horizon, seed=1)
    result = solve(inst, seconds=20)
    assert result.solution is not None
    report = check_solution(inst, result.solution)
    assert report.feasible, report.violations
    assert result.seconds < 20 + 5
    if result.lower_bound is not None:
        assert result.lower_bound <= report.cost + 1e-6


def test_a_tiny_budget_still_returns_a_feasible_solution() -> None:
    inst = random_instance(50, 6, seed=5)
    result = solve(inst, seconds=0.2)
    assert result.solution is not None
    assert check_solution(inst, result.solution).feasible
    assert result.seconds < 5
