"""The rolling-origin backtest and its CLI: we beat seasonal naive, the intervals roughly hold."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from tradeoff.cli.vending import app
from tradeoff.vending.forecast.backtest import run_backtest


def test_backtest_beats_seasonal_naive() -> None:
    seen: list[tuple[int, int]] = []
    report = run_backtest(machines=4, weeks=7, seed=3, columns_per_machine=20, on_origin=lambda *a: seen.append(a))
    assert report.columns == 80 and report.origins == 3 == len(seen) and seen[-1] == (3, 3)
    assert set(report.classes) == {"fast", "medium", "intermittent", "all"}
    overall = report.classes["all"]
    assert overall.forecasts == 80 * 3
    assert overall.mae < overall.naive_mae and overall.mae_ratio < 0.95
    assert overall.cum_mae < overall.naive_cum_mae
    assert overall.oracle_mae <= overall.naive_mae
    assert 0.75 < overall.coverage90 <= 1 and 0.7 < overall.cum_coverage90 <= 1
    assert sum(report.models.values()) == 80 * 3


def test_backtest_needs_a_horizon_after_the_warmup() -> None:
    with pytest.raises(ValueError, match="horizon"):
        run_backtest(machines=1, weeks=4, warmup_weeks=4)


def test_cli_backtest_json_and_table() -> None:
    runner = CliRunner()
    args = ["backtest", "--machines", "2", "--weeks", "6", "--columns", "10", "--seed", "5"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["columns"] == 20 and report["origins"] == 2
    assert {"mae", "naive_mae", "mae_ratio", "cum_mae", "coverage90"} <= set(report["classes"]["all"])
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "seasonal naive" in table.stdout
    bad = runner.invoke(app, ["backtest", "--weeks", "4", "--warmup", "4"])
    assert bad.exit_code == 2
