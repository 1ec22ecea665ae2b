"""Reading walk-through CSVs: named columns, sentinels, times as numbers or dates."""

from pathlib import Path

import numpy as np
import pytest

from tradeoff.presence.model.walkthrough import load_csv, parse_times


def test_reads_labels_groups_times_and_readings(tmp_path: Path) -> None:
    path = tmp_path / "walk.csv"
    path.write_text("cell,visit,t,b1,b2\nA01,v1,10,-70,\nB01,v2,12,-200,-80\n,v3,13,-60,-60\n")
    data = load_csv(path, label="cell", rssi=["b1", "b2"], group="visit", time="t")
    assert data.labels.tolist() == ["A01", "B01"]
    assert data.groups is not None and data.groups.tolist() == ["v1", "v2"]
    assert data.times is not None and data.times.tolist() == [10.0, 12.0]
    assert np.isnan(data.matrix[0, 1]) and np.isnan(data.matrix[1, 0]) and data.matrix[1, 1] == -80


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "walk.csv"
    path.write_text("cell,b1\nA01,-70\n")
    with pytest.raises(ValueError, match="no column.*b9"):
        load_csv(path, label="cell", rssi=["b1", "b9"])


def test_dates_parse_with_or_without_a_format() -> None:
    assert parse_times(["10-18-2016 11:15:21", "10-18-2016 11:15:23"], "%m-%d-%Y %H:%M:%S").tolist() == [
        1476789321.0,
        1476789323.0,
    ]
    assert np.diff(parse_times(["2026-01-01T10:00:00Z", "2026-01-01T10:00:05Z"])).tolist() == [5.0]
    with pytest.raises(ValueError, match="cannot read 'soon'"):
        parse_times(["2026-01-01", "soon"])
