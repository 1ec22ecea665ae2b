"""``tradeoff bench irp``: our IRP solver on Archetti et al. (2007) instances, against the literature's values.

Every ``.dat`` under the directory is solved within a time budget, checked by the independent checker (the
reported cost is the checker's), and compared with ``ref_obj`` from ``archetti_reference_values.csv``. The CSV is
looked up next to each instance, then in each parent directory up to the benchmark directory. A file is matched
to its row by its folder and stem (``Instances_lowcost_H3/abs1n5.dat`` → folder ``Instances_lowcost_H3``,
instance ``abs1n5``); failing that, by cost class (``lowcost``/``highcost`` in a parent's name), horizon and
size read from the file, and stem, when exactly one row fits.
"""

from __future__ import annotations

import csv
import math
import os
import platform
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tradeoff.bench.machine import cpu_model
from tradeoff.vending.irp import InstanceFormatError, check_solution, read_instance, solve
from tradeoff.vending.irp.highs import quiet_highs

REFERENCE_FILE = "archetti_reference_values.csv"
TARGET_GAP_PCT = 1.0
_COST_CLASS = re.compile(r"(low|high)cost", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    instance: str
    folder: str
    cost_class: str
    horizon: int
    n_customers: int
    ref_obj: float


@dataclass(frozen=True)
class InstanceResult:
    name: str
    cost: float | None
    ref_obj: float | None
    gap_pct: float | None
    feasible: bool
    seconds: float
    lower_bound: float | None
    optimal: bool
    n: int
    horizon: int
    violations: list[str]


def read_references(path: Path) -> list[Reference]:
    with path.open(newline="") as handle:
        return [
            Reference(
                instance=row["instance"],
                folder=row["folder"],
                cost_class=row["cost_class"],
                horizon=int(row["horizon"]),
                n_customers=int(row["n_customers"]),
                ref_obj=float(row["ref_obj"]),
            )
            for row in csv.DictReader(handle)
        ]


def find_reference_file(instance_path: Path, root: Path) -> Path | None:
    """The nearest ``archetti_reference_values.csv`` from the instance's folder up to ``root``."""
    root = root.resolve()
    folder = instance_path.resolve().parent
    while True:
        candidate = folder / REFERENCE_FILE
        if candidate.is_file():
            return candidate
        if folder == root or folder.parent == folder:
            return None
        folder = folder.parent


def match_reference(refs: Iterable[Reference], path: Path, *, n: int, horizon: int) -> Reference | None:
    """The row for ``path``: by folder and stem, else by cost class, horizon, size and stem if unique."""
    refs = list(refs)
    parents = [p.name for p in path.parents]
    for parent in parents:
        exact = [r for r in refs if r.folder == parent and r.instance == path.stem]
        if len(exact) == 1:
            return exact[0]
    classes = {m.group(1).lower() for p in parents if (m := _COST_CLASS.search(p))}
    if len(classes) != 1:
        return None
    (cost_class,) = classes
    fits = [
        r
        for r in refs
        if r.instance == path.stem and r.cost_class == cost_class and r.horizon == horizon and r.n_customers == n
    ]
    return fits[0] if len(fits) == 1 else None


def machine() -> dict[str, Any]:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    highs = quiet_highs()
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(cpuinfo) if cpuinfo else platform.processor() or "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
        "highs": f"{highs.versionMajor()}.{highs.versionMinor()}.{highs.versionPatch()}",
    }


def run_instance(path: Path, root: Path, *, seconds: float, seed: int) -> InstanceResult:
    instance = read_instance(path)
    name = str(path.relative_to(root).with_suffix("")) if path.is_relative_to(root) else path.stem
    ref_file = find_reference_file(path, root)
    ref = match_reference(read_references(ref_file), path, n=instance.n, horizon=instance.horizon) if ref_file else None
    result = solve(instance, seconds=seconds, seed=seed)
    report = None if result.solution is None else check_solution(instance, result.solution)
    feasible = report is not None and report.feasible
    cost = round(report.cost, 4) if report is not None and math.isfinite(report.cost) else None
    ref_obj = ref.ref_obj if ref else None
    gap = round(100.0 * (cost - ref_obj) / ref_obj, 4) if cost is not None and ref_obj else None
    violations = [f"t={v.period} {v.kind}: {v.message}" for v in report.violations] if report else ["no solution"]
    return InstanceResult(
        name=name,
        cost=cost,
        ref_obj=ref_obj,
        gap_pct=gap,
        feasible=feasible,
        seconds=round(result.seconds, 3),
        lower_bound=round(result.lower_bound, 4) if result.lower_bound is not None else None,
        optimal=result.optimal,
        n=instance.n,
        horizon=instance.horizon,
        violations=violations,
    )


def find_instances(root: Path) -> list[Path]:
    return sorted(root.rglob("*.dat"))


def summarize(results: list[InstanceResult]) -> dict[str, Any]:
    gaps = [r.gap_pct for r in results if r.gap_pct is not None and r.feasible]
    mean_gap = round(sum(gaps) / len(gaps), 4) if gaps else None
    all_good = bool(results) and all(r.feasible and r.gap_pct is not None for r in results)
    return {
        "mean_gap_pct": mean_gap,
        "target_gap_pct": TARGET_GAP_PCT,
        "target_met": all_good and mean_gap is not None and mean_gap <= TARGET_GAP_PCT,
        "instances_total": len(results),
        "instances_feasible": sum(r.feasible for r in results),
        "instances_with_reference": sum(r.ref_obj is not None for r in results),
        "instances_optimal": sum(r.optimal for r in results),
    }


def run_irp_bench(
    root: Path,
    *,
    seconds: float = 60.0,
    seed: int = 0,
    progress: Callable[[str, InstanceResult | None], None] | None = None,
) -> dict[str, Any]:
    """Solve and check every instance under ``root``; the report ``--json`` prints.

    ``progress(path, None)`` is called before each instance and ``progress(path, result)`` after it.
    Raises ``ValueError`` when ``root`` holds no ``.dat`` file, :class:`InstanceFormatError` for a bad one.
    """
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory")
    paths = find_instances(root)
    if not paths:
        raise ValueError(f"no .dat instance under {root}")
    started = datetime.now(UTC)
    results: list[InstanceResult] = []
    for path in paths:
        if progress:
            progress(str(path), None)
        result = run_instance(path, root, seconds=seconds, seed=seed)
        results.append(result)
        if progress:
            progress(str(path), result)
    return {
        "benchmark": "irp",
        "date": started.isoformat(timespec="seconds"),
        "dir": str(root),
        "seconds_per_instance": seconds,
        "seed": seed,
        "machine": machine(),
        "objective": "routing (NINT Euclidean) + holding at supplier and retailers for t = 1..H+1",
        "instances": [asdict(r) for r in results],
        **summarize(results),
    }


__all__ = ["InstanceFormatError", "InstanceResult", "Reference", "run_irp_bench"]
