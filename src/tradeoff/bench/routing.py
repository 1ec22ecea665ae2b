"""``tradeoff bench routing``: our PyVRP layer and OR-Tools on CVRPLIB instances, gaps to best-known costs.

For every ``NAME.vrp`` in the directory with a row in ``bks.csv`` beside it, each solver gets ``S × n``
seconds, where n is the number of clients (nodes minus the depot), as in PyVRP's published benchmark
(2.4·n s there). The solvers run one after the other, never together, so each has the machine to itself.
Feasibility comes from the independent checker, not from the solver's own claim.
"""

from __future__ import annotations

import csv
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from statistics import fmean
from typing import Any

from tradeoff.bench.machine import cpu_model
from tradeoff.vending.routing.checker import check
from tradeoff.vending.routing.cvrplib import load_instance
from tradeoff.vending.routing.problem import RoutingProblem, RoutingSolution
from tradeoff.vending.routing.solver import solve

TARGET_GAP_PCT = 0.5  # mean gap to BKS at 1·n seconds
TARGET_RATIO_TO_ORTOOLS = 0.2  # our mean gap at most one fifth of OR-Tools'

Solver = Callable[[RoutingProblem, float, int], RoutingSolution]


@dataclass(frozen=True)
class RoutingBenchOptions:
    directory: Path
    seconds_per_node: float = 1.0
    only: Sequence[str] = ()
    seed: int = 0
    ortools: bool = True


def read_bks(path: Path) -> dict[str, int]:
    """``bks.csv`` → instance name → best-known cost."""
    with path.open(newline="") as handle:
        return {row["name"].strip(): int(float(row["bks"])) for row in csv.DictReader(handle)}


def instances(options: RoutingBenchOptions) -> list[tuple[Path, int]]:
    """The ``.vrp`` files to run, each with its BKS; ``--only`` names that match nothing are an error."""
    bks_file = options.directory / "bks.csv"
    if not bks_file.is_file():
        raise ValueError(f"{bks_file} not found: the benchmark needs best-known costs beside the instances")
    bks = read_bks(bks_file)
    found = sorted(path for path in options.directory.glob("*.vrp") if path.stem in bks)
    if options.only:
        unknown = sorted(set(options.only) - {path.stem for path in found})
        if unknown:
            raise ValueError(f"no instance with a BKS named {', '.join(unknown)} in {options.directory}")
        found = [path for path in found if path.stem in set(options.only)]
    if not found:
        raise ValueError(f"no .vrp file with a row in bks.csv in {options.directory}")
    return [(path, bks[path.stem]) for path in found]


def gap_pct(cost: int, bks: int) -> float:
    return round(100.0 * (cost - bks) / bks, 3)


def _ours(problem: RoutingProblem, seconds: float, seed: int) -> RoutingSolution:
    return solve(problem, seconds=seconds, seed=seed)


def _ortools(problem: RoutingProblem, seconds: float, seed: int) -> RoutingSolution:
    from tradeoff.bench.routing_ortools import solve_ortools  # dev dependency: only when the baseline runs

    return solve_ortools(problem, seconds=seconds)


def run_instance(
    path: Path, bks: int, options: RoutingBenchOptions, *, ours: Solver = _ours, baseline: Solver | None = _ortools
) -> dict[str, Any]:
    """One instance: our solver, then the baseline, each with ``seconds_per_node × clients`` seconds."""
    problem = load_instance(path)
    n = len(problem.stops)
    budget = options.seconds_per_node * n
    row: dict[str, Any] = {"name": path.stem, "n": n, "bks": bks, "budget_seconds": round(budget, 3)}
    row |= _measure(problem, ours(problem, budget, options.seed), bks, prefix="")
    if baseline is not None:
        row |= _measure(problem, baseline(problem, budget, options.seed), bks, prefix="ortools_")
    return row


def _measure(problem: RoutingProblem, solution: RoutingSolution, bks: int, *, prefix: str) -> dict[str, Any]:
    violations = check(problem, solution)
    return {
        f"{prefix}cost": solution.distance,
        f"{prefix}gap_pct": gap_pct(solution.distance, bks),
        f"{prefix}feasible": not violations,
        f"{prefix}seconds": round(solution.seconds, 3),
        f"{prefix}routes": len(solution.routes),
        f"{prefix}violations": violations[:5],
    }


def summarize(rows: list[dict[str, Any]], options: RoutingBenchOptions) -> dict[str, Any]:
    """Means over instances and the two targets; an infeasible result counts as missing the target."""
    mean = round(fmean(row["gap_pct"] for row in rows), 3)
    all_feasible = all(row["feasible"] for row in rows)
    ortools_mean = round(fmean(row["ortools_gap_pct"] for row in rows), 3) if options.ortools else None
    return {
        "benchmark": "routing",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "seconds_per_node": options.seconds_per_node,
        "n_is": "clients (nodes minus the depot)",
        "seed": options.seed,
        "instances": rows,
        "mean_gap_pct": mean,
        "ortools_mean_gap_pct": ortools_mean,
        "targets": {
            "mean_gap_le_0_5_pct": all_feasible and mean <= TARGET_GAP_PCT,
            "le_one_fifth_of_ortools": (
                all_feasible and ortools_mean is not None and mean <= TARGET_RATIO_TO_ORTOOLS * ortools_mean
            ),
        },
    }


def machine() -> dict[str, Any]:
    try:
        model = cpu_model(Path("/proc/cpuinfo").read_text())
    except OSError:
        model = platform.processor() or "unknown"
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "pyvrp": _version("pyvrp"),
        "ortools": _version("ortools"),
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def run_routing_bench(
    options: RoutingBenchOptions, *, progress: Callable[[str], None] = lambda line: None
) -> dict[str, Any]:
    """Every instance in turn (never in parallel), then the summary."""
    if options.seconds_per_node <= 0:
        raise ValueError("--seconds-per-node must be positive")
    rows = []
    for path, bks in instances(options):
        progress(f"{path.stem}: solving (budget {options.seconds_per_node:g} s per client, each solver)")
        row = run_instance(path, bks, options, baseline=_ortools if options.ortools else None)
        progress(
            f"{path.stem}: gap {row['gap_pct']}%" + (f", OR-Tools {row['ortools_gap_pct']}%" if options.ortools else "")
        )
        rows.append(row)
    return summarize(rows, options)
