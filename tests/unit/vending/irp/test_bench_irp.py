"""``tradeoff bench irp`` (src/tradeoff/bench/irp.py and src/tradeoff/cli/bench_irp.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.vending.irp.conftest import DATA, archetti
from tradeoff.bench.irp import (
    REFERENCE_FILE,
    Reference,
    find_reference_file,
    match_reference,
    read_references,
    run_irp_bench,
)
from tradeoff.cli import app

REFS = [
    Reference("abs1n5", "Instances_lowcost_H3", "low", 3, 5, 1235.92),
    Reference("abs1n5", "Instances_highcost_H3", "high", 3, 5, 2108.34),
    Reference("abs1n5", "Instances_lowcost_H6", "low", 6, 5, 3187.3),
]


def bench_dir(tmp_path: Path) -> Path:
    target = tmp_path / "irp" / "Instances_lowcost_H3"
    target.mkdir(parents=True)
    shutil.copy(archetti("Instances_lowcost_H3", "abs1n5"), target / "abs1n5.dat")
    shutil.copy(DATA / REFERENCE_FILE, tmp_path / "irp" / REFERENCE_FILE)
    return tmp_path / "irp"


def test_matches_by_folder_and_stem() -> None:
    ref = match_reference(REFS, Path("x/Instances_highcost_H3/abs1n5.dat"), n=5, horizon=3)
    assert ref is not None and ref.ref_obj == 2108.34


def test_falls_back_to_cost_class_horizon_and_size() -> None:
    ref = match_reference(REFS, Path("mine/lowcost/six/abs1n5.dat"), n=5, horizon=6)
    assert ref is not None and ref.ref_obj == 3187.3
    assert match_reference(REFS, Path("mine/abs1n5.dat"), n=5, horizon=6) is None  # cost class unknown
    assert match_reference(REFS, Path("lowcost/abs1n5.dat"), n=10, horizon=6) is None  # size differs


def test_shared_reference_file_has_every_shared_instance() -> None:
    refs = read_references(DATA / REFERENCE_FILE)
    for path in sorted((DATA / "archetti2007").rglob("*.dat")):
        assert match_reference(refs, path, n=int(path.stem.split("n")[-1]), horizon=int(path.parent.name[-1]))


def test_reference_file_is_searched_up_to_the_root_only(tmp_path: Path) -> None:
    root = bench_dir(tmp_path)
    instance = root / "Instances_lowcost_H3" / "abs1n5.dat"
    assert find_reference_file(instance, root) == root / REFERENCE_FILE
    assert find_reference_file(instance, root / "Instances_lowcost_H3") is None


def test_report_shape(tmp_path: Path) -> None:
    root = bench_dir(tmp_path)
    seen: list[str] = []
    report = run_irp_bench(root, seconds=10, progress=lambda path, result: seen.append(path))
    assert len(seen) == 2
    (row,) = report["instances"]
    assert row["name"] == "Instances_lowcost_H3/abs1n5"
    assert row["cost"] == pytest.approx(1235.92)
    assert row["ref_obj"] == 1235.92
    assert row["gap_pct"] == pytest.approx(0.0, abs=1e-6)
    assert row["feasible"] is True and row["violations"] == []
    assert set(row) >= {"name", "cost", "ref_obj", "gap_pct", "feasible", "seconds"}
    assert report["mean_gap_pct"] == pytest.approx(0.0, abs=1e-6)
    assert report["target_met"] is True
    assert {"cpu_count", "cpu_model", "python", "highs"} <= set(report["machine"])
    assert report["date"]


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no .dat"):
        run_irp_bench(tmp_path)


def test_cli_json_and_table(tmp_path: Path) -> None:
    root = bench_dir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["bench", "irp", "--dir", str(root), "--seconds", "10", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["instances"][0]["feasible"] is True
    table = runner.invoke(app, ["bench", "irp", "--dir", str(root), "--seconds", "10"])
    assert table.exit_code == 0, table.output
    assert "mean gap 0.000 % (target ≤ 1 %): met" in table.stdout


def test_cli_reports_a_bad_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "irp", "--dir", str(tmp_path / "missing"), "--json"])
    assert result.exit_code == 1
    assert "not a directory" in result.output


def test_cli_names_the_bad_line(tmp_path: Path) -> None:
    (tmp_path / "bad.dat").write_text("2 1 5\n1 0 0 5 5 .1\n2 1 1 1 2 0 oops .2\n")
    result = CliRunner().invoke(app, ["bench", "irp", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.dat:line3:retailer" in "".join(result.output.split())  # the console may wrap anywhere
