"""``tradeoff bench routing``: PyVRP layer vs OR-Tools on CVRPLIB instances, gaps to best-known solutions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tradeoff.bench.routing import TARGET_GAP_PCT, RoutingBenchOptions, run_routing_bench
from tradeoff.cli.common import console, err_console, print_json
from tradeoff.core.errors import TradeoffError


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``bench`` group."""
    app.command("routing")(routing)


def routing(
    directory: Path = typer.Option(..., "--dir", help="folder with NAME.vrp (+ NAME.sol) files and bks.csv"),
    seconds_per_node: float = typer.Option(1.0, help="time budget per client, for each solver"),
    only: list[str] = typer.Option([], help="run only these instances (repeatable), e.g. --only A-n32-k5"),
    seed: int = typer.Option(0, help="PyVRP random seed"),
    ortools: bool = typer.Option(True, "--ortools/--no-ortools", help="also run the OR-Tools baseline"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Solve each instance with our layer, then OR-Tools, S·n seconds each (n = clients); report gaps to BKS."""
    options = RoutingBenchOptions(directory, seconds_per_node, tuple(only), seed, ortools)
    try:
        report = run_routing_bench(options, progress=lambda line: err_console.print(f"[dim]{line}[/dim]"))
    except (ValueError, TradeoffError, ImportError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print_json(report)
    else:
        _print_table(report)


def _print_table(report: dict[str, Any]) -> None:
    machine = report["machine"]
    table = Table(
        "instance",
        "n",
        "BKS",
        "cost",
        "gap %",
        "ok",
        "s",
        "OR-Tools",
        "gap %",
        "ok",
        "s",
        title=f"routing · {report['date']} · {machine['cpu_count']} × {machine['cpu_model']}",
        caption=f"{report['seconds_per_node']:g} s per client for each solver; ok = independent checker",
    )
    for row in report["instances"]:
        table.add_row(
            row["name"],
            str(row["n"]),
            f"{row['bks']:,}",
            f"{row['cost']:,}",
            f"{row['gap_pct']:.2f}",
            _ok(row["feasible"]),
            f"{row['seconds']:.1f}",
            f"{row['ortools_cost']:,}" if "ortools_cost" in row else "–",
            f"{row['ortools_gap_pct']:.2f}" if "ortools_gap_pct" in row else "–",
            _ok(row["ortools_feasible"]) if "ortools_feasible" in row else "–",
            f"{row['ortools_seconds']:.1f}" if "ortools_seconds" in row else "–",
        )
    console.print(table)
    targets = report["targets"]
    ortools = report["ortools_mean_gap_pct"]
    console.print(
        f"mean gap {report['mean_gap_pct']:.3f}% (target ≤ {TARGET_GAP_PCT}%: {_met(targets['mean_gap_le_0_5_pct'])})"
        + (
            f"; OR-Tools {ortools:.3f}% (≤ 1/5 of it: {_met(targets['le_one_fifth_of_ortools'])})"
            if ortools is not None
            else ""
        )
    )


def _ok(value: bool) -> str:
    return "[green]yes[/green]" if value else "[red]NO[/red]"


def _met(value: bool) -> str:
    return "[green]met[/green]" if value else "[red]missed[/red]"
