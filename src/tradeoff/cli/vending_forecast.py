"""``tradeoff vending backtest``: how well the per-column forecasts do on a simulated fleet."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tradeoff.cli.common import console, err_console, print_json

if TYPE_CHECKING:
    from tradeoff.vending.forecast.backtest import BacktestReport


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``vending`` group."""
    app.command("backtest")(backtest_command)


def backtest_command(
    machines: int = typer.Option(20, "--machines", min=1, help="machines in the simulated fleet"),
    weeks: int = typer.Option(10, "--weeks", min=2, help="weeks simulated (the first --warmup are history only)"),
    seed: int = typer.Option(1, "--seed", help="seed of the fleet and its sales"),
    columns: int = typer.Option(30, "--columns", min=1, help="columns per machine"),
    warmup: int = typer.Option(4, "--warmup", min=1, help="weeks of history before the first forecast origin"),
    horizon: int = typer.Option(7, "--horizon", min=1, max=28, help="days forecast from each weekly origin"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Rolling-origin backtest: our forecasts against seasonal naive, per demand class."""
    from tradeoff.vending.forecast.backtest import run_backtest  # statsforecast: seconds to import, so only here

    if weeks * 7 < warmup * 7 + horizon:
        err_console.print(f"[red]error:[/red] --weeks {weeks} leaves no {horizon}-day horizon after --warmup {warmup}")
        raise typer.Exit(2)
    with Progress(
        TextColumn("backtest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console
    ) as progress:
        task = progress.add_task("origins", total=None)
        report = run_backtest(
            machines=machines,
            weeks=weeks,
            seed=seed,
            columns_per_machine=columns,
            warmup_weeks=warmup,
            horizon_days=horizon,
            on_origin=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if as_json:
        print_json(report.as_dict())
    else:
        _print(report)


def _print(report: BacktestReport) -> None:
    console.print(
        f"{report.machines} machines, {report.columns} columns, {report.weeks} weeks (seed {report.seed}); "
        f"{report.origins} weekly origins x {report.horizon_days}-day horizon; fitting took "
        f"{report.fit_seconds:.1f} s",
        highlight=False,
    )
    h = report.horizon_days
    table = Table(
        "class", "vends/d", "MAE", "naive", "ratio", "bias", f"{h}d MAE", "naive", "oracle", "cov90", f"{h}d cov90"
    )
    for name, s in report.classes.items():
        table.add_row(
            name,
            f"{s.mean_daily_vends:.2f}",
            f"{s.mae:.3f}",
            f"{s.naive_mae:.3f}",
            f"{s.mae_ratio:.2f}",
            f"{s.bias:+.3f}",
            f"{s.cum_mae:.2f}",
            f"{s.naive_cum_mae:.2f}",
            f"{s.oracle_cum_mae:.2f}",
            f"{s.coverage90:.0%}",
            f"{s.cum_coverage90:.0%}",
        )
    console.print(table)
    console.print(
        "MAE per column-day; ratio < 1 beats seasonal naive (same weekday last week); oracle knows the true rates",
        style="dim",
    )
    console.print("models: " + ", ".join(f"{name} {count}" for name, count in sorted(report.models.items())))
