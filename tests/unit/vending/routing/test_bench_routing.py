"""``tradeoff bench routing``: instance selection, the summary and its targets, and the command itself.

Tests ``bench/routing.py`` and ``cli/bench_routing.py``; they live here with the rest of the routing tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.unit.vending.routing.builders import CVRP_DIR
from tradeoff.bench.routing import RoutingBenchOptions, gap_pct, instances, run_instance, summarize
from tradeoff.cli import app
from tradeoff.vending.routing.cvrplib import load_solution
from tradeoff.vending.routing.problem import RoutingProblem, RoutingSolution

needs_data = pytest.mark.skipif(not (CVRP_DIR / "bks.csv").is_file(), reason=f"no CVRPLIB data in {CVRP_DIR}")


@pytest.fixture
def small_dir(tmp_path: Path) -> Path:
    """A-n32-k5 and B-n31-k5 with a bks.csv that also names an instance whose file is absent."""
    if not (CVRP_DIR / "bks.csv").is_file():
        pytest.skip(f"no CVRPLIB data in {CVRP_DIR}")
    for name in ("A-n32-k5", "B-n31-k5"):
        for suffix in (".vrp", ".sol"):
            shutil.copy(CVRP_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    (tmp_path / "bks.csv").write_text("name,bks\nA-n32-k5,784\nB-n31-k5,672\nZ-n9-k1,10\n")
    (tmp_path / "no-bks.vrp").write_text("NAME : x\n")
    return tmp_path


def test_instances_need_a_bks_and_honour_only(small_dir: Path) -> None:
    found = instances(RoutingBenchOptions(small_dir))
    assert [(path.stem, bks) for path, bks in found] == [("A-n32-k5", 784), ("B-n31-k5", 672)]
    assert [p.stem for p, _ in instances(RoutingBenchOptions(small_dir, only=("B-n31-k5",)))] == ["B-n31-k5"]
    with pytest.raises(ValueError, match="nope"):
        instances(RoutingBenchOptions(small_dir, only=("nope",)))
    with pytest.raises(ValueError, match="bks.csv"):
        instances(RoutingBenchOptions(small_dir / "missing"))


def test_gap() -> None:
    assert gap_pct(1010, 1000) == 1.0 and gap_pct(784, 784) == 0.0


def _from_file(problem: RoutingProblem, seconds: float, seed: int) -> RoutingSolution:
    return load_solution(CVRP_DIR / "A-n32-k5.sol", problem)


def test_run_instance_checks_both_solvers_independently(small_dir: Path) -> None:
    options = RoutingBenchOptions(small_dir, seconds_per_node=0.5)
    row = run_instance(small_dir / "A-n32-k5.vrp", 784, options, ours=_from_file, baseline=_from_file)
    assert row["n"] == 31 and row["budget_seconds"] == 15.5
    assert (row["cost"], row["gap_pct"], row["feasible"]) == (784, 0.0, True)
    assert (row["ortools_cost"], row["ortools_gap_pct"], row["ortools_feasible"]) == (784, 0.0, True)


def _row(gap: float, ortools_gap: float, feasible: bool = True) -> dict[str, Any]:
    return {"gap_pct": gap, "ortools_gap_pct": ortools_gap, "feasible": feasible}


def test_summary_targets() -> None:
    options = RoutingBenchOptions(Path("."))
    met = summarize([_row(0.2, 4.0), _row(0.4, 2.0)], options)
    assert met["mean_gap_pct"] == 0.3 and met["ortools_mean_gap_pct"] == 3.0
    assert met["targets"] == {"mean_gap_le_0_5_pct": True, "le_one_fifth_of_ortools": True}
    assert summarize([_row(0.4, 1.0), _row(0.4, 1.0)], options)["targets"]["le_one_fifth_of_ortools"] is False
    assert summarize([_row(0.6, 9.0)], options)["targets"]["mean_gap_le_0_5_pct"] is False
    assert summarize([_row(0.0, 9.0, feasible=False)], options)["targets"]["mean_gap_le_0_5_pct"] is False
    assert {"cpu_model", "cpu_count"} <= set(met["machine"]) and met["date"]


def test_command_json_on_a_tiny_budget(small_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["bench", "routing", "--dir", str(small_dir), "--only", "B-n31-k5", "--seconds-per-node", "0.01", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (row,) = report["instances"]
    assert row["name"] == "B-n31-k5" and row["feasible"] and row["ortools_feasible"]
    assert row["gap_pct"] < 5 and set(report["targets"]) == {"mean_gap_le_0_5_pct", "le_one_fifth_of_ortools"}


def test_command_table_and_errors(small_dir: Path) -> None:
    args = ["bench", "routing", "--dir", str(small_dir), "--only", "A-n32-k5", "--seconds-per-node", "0.01"]
    table = CliRunner().invoke(app, [*args, "--no-ortools"])
    assert table.exit_code == 0, table.output
    assert "A-n32-k5" in table.stdout and "mean gap" in table.stdout
    bad = CliRunner().invoke(app, ["bench", "routing", "--dir", str(small_dir), "--only", "nope"])
    assert bad.exit_code == 1 and "nope" in bad.output
