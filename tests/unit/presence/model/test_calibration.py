"""Calibration → JSON model file → locate, through the functions and the CLI."""

import json
from pathlib import Path

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from tests.unit.presence.model.world import survey, write_csv
from tradeoff.cli import app
from tradeoff.presence.model import calibration


def _scans(rows: np.ndarray, beacons: tuple[str, ...]) -> list[dict[str, float]]:
    return [{b: float(v) for b, v in zip(beacons, row, strict=True) if v > -150} for row in rows]


def test_calibrated_model_survives_a_json_round_trip() -> None:
    data = survey(seed=6)
    store = calibration.calibrate(data.matrix, data.labels, data.beacons, groups=data.groups)
    assert store.info["selection"] == "grouped CV"
    loaded = calibration.from_json(calibration.to_json(store))
    scans = _scans(data.matrix[10:13], data.beacons)
    assert loaded.locate(scans) == store.locate(scans)
    assert loaded.model.params == store.model.params
    document = orjson.loads(calibration.to_json(store))
    assert document["format"] == "tradeoff-presence-model" and document["layout"] == "grid"


def test_locate_combines_scans_and_reports_zone_and_candidates() -> None:
    data = survey(seed=7)
    store = calibration.calibrate(data.matrix, data.labels, data.beacons)
    assert store.info["selection"].startswith("defaults")
    rows = np.flatnonzero(data.labels == "C02")[:3]
    where = store.locate(_scans(data.matrix[rows], data.beacons), top=2)
    assert where.zone is not None and where.xy is not None
    assert abs(where.xy[0] - 2) + abs(where.xy[1] - 2) <= 2
    assert len(where.candidates) == 2 and where.candidates[0][1] >= where.candidates[1][1]


def test_locate_rejects_nothing_and_strangers() -> None:
    data = survey(seed=7)
    store = calibration.calibrate(data.matrix, data.labels, data.beacons)
    with pytest.raises(ValueError, match="at least one scan"):
        store.locate([])
    with pytest.raises(ValueError, match="none of the beacons"):
        store.locate([{"nope": -60.0}])


def test_foreign_files_are_refused() -> None:
    with pytest.raises(ValueError, match="not a tradeoff-presence-model"):
        calibration.from_json(b'{"format": "pickle"}')
    with pytest.raises(ValueError, match="version"):
        calibration.from_json(b'{"format": "tradeoff-presence-model", "version": 9}')


def test_cli_calibrate_then_locate(tmp_path: Path) -> None:
    data = survey(seed=8)
    csv, model = tmp_path / "walk.csv", tmp_path / "store.json"
    write_csv(csv, data)
    runner = CliRunner()
    rssi = ",".join(data.beacons)
    result = runner.invoke(
        app,
        [
            "presence",
            "calibrate",
            "--csv",
            str(csv),
            "--label",
            "cell",
            "--rssi",
            rssi,
            "--time",
            "seen_at",
            "--out",
            str(model),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["cells"] == 20 and summary["selection"] == "grouped CV"
    row = data.matrix[np.flatnonzero(data.labels == "B03")[0]]
    scan = ",".join(f"{b}={v:g}" for b, v in zip(data.beacons, row, strict=True) if v > -150)
    result = runner.invoke(app, ["presence", "locate", "--model", str(model), "--rssi", scan, "--json"])
    assert result.exit_code == 0, result.output
    located = json.loads(result.output)
    assert located["cell"] in {"A02", "A03", "A04", "B02", "B03", "B04", "C02", "C03", "C04"}


def test_cli_errors_name_the_problem(tmp_path: Path) -> None:
    csv = tmp_path / "walk.csv"
    write_csv(csv, survey(seed=8, columns=2, rows=2, visits=1))
    runner = CliRunner()
    result = runner.invoke(
        app, ["presence", "calibrate", "--csv", str(csv), "--label", "cell", "--rssi", "b1,zz", "--out", "x.json"]
    )
    assert result.exit_code == 1
    assert "zz" in result.output
    result = runner.invoke(app, ["presence", "locate", "--model", str(csv), "--rssi", "b1"])
    assert result.exit_code == 1
