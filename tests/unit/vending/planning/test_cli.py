import json
from pathlib import Path

import orjson
from typer.testing import CliRunner

from tests.unit.vending.planning.fixtures import column, machine, request
from tradeoff.cli import app
from tradeoff.vending.planning.codec import request_to_json


def test_vending_plan_from_a_request_file(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    machines = [machine("a", east_m=1500, columns=(column(on_hand=12, rate=8),)), machine("z", east_m=0, columns=())]
    path.write_bytes(orjson.dumps(request_to_json(request(machines))))
    result = CliRunner().invoke(app, ["vending", "plan", "--request", str(path), "--seconds", "0.05", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [s["machine_id"] for t in data["trucks"] for s in t["stops"]] == ["a"]
    table = CliRunner().invoke(app, ["vending", "plan", "--request", str(path), "--seconds", "0.05"])
    assert table.exit_code == 0 and "T1" in table.stdout


def test_vending_plan_reports_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text('{"now": "yesterday"}')
    result = CliRunner().invoke(app, ["vending", "plan", "--request", str(path)])
    assert result.exit_code == 1 and "now" in result.output
    missing = CliRunner().invoke(app, ["vending", "plan", "--request", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1


def test_bench_fleet_command_json() -> None:
    args = ["bench", "fleet", "--machines", "5", "--weeks", "1", "--seconds", "0.02", "--fixed-every", "2", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [p["policy"] for p in report["policies"]] == ["ours", "threshold", "fixed-2"]
