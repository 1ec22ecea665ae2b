"""``tradeoff bench fleet``: the 8-week fleet simulation, ours against a fixed schedule and a threshold rule."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from tradeoff.bench.fleet import FleetOptions, run_fleet_bench
from tradeoff.cli.common import console, err_console, print_json


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``bench`` group."""
    app.command("fleet")(fleet)


def fleet(
    machines: int = typer.Option(50, help="machines in the simulated fleet"),
    weeks: int = typer.Option(8, help="simulated weeks measured (after one warm-up week)"),
    seed: int = typer.Option(0, help="seed of the fleet, its demand and the solver"),
    trucks: int = typer.Option(0, help="trucks (0: one per 16 machines)"),
    seconds: float = typer.Option(1.0, help="routing search per routing pass"),
    fixed_every: list[int] = typer.Option([1, 2, 3, 4], help="k values of the fixed schedule baseline"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """km, visits and stock-outs per policy on the same demand; the target is in docs/vending-planning.md."""
    options = FleetOptions(
        machines=machines, weeks=weeks, seed=seed, trucks=trucks, seconds=seconds, fixed_every=tuple(fixed_every)
    )
    report = run_fleet_bench(options, progress=lambda line: err_console.print(f"[dim]{line}[/dim]"))
    if as_json:
        print_json(report)
    else:
        _print(report)


def _print(report: dict[str, Any]) -> None:
    table = Table(
        "policy",
        "km",
        "visits",
        "joined",
        "units",
        "stock-out col-h",
        "lost units",
        "km vs ref",
        title=f"fleet · {report['settings']['machines']} machines · {report['settings']['weeks']} weeks",
        caption=f"reference: {report['reference_fixed']} (smallest k with stock-outs ≥ ours)",
    )
    for row in report["policies"]:
        ratio = row["vs_reference"].get("km")
        table.add_row(
            row["policy"],
            f"{row['km']:,.0f}",
            str(row["visits"]),
            str(row["joined"]),
            f"{row['units_delivered']:,}",
            f"{row['stockout_column_hours']:,}",
            f"{row['lost_units']:,}",
            "" if ratio is None else f"{ratio:.2f}",
        )
    console.print(table)
    target = report["target"]
    verdict = "[green]met[/green]" if target["met"] else "[red]missed[/red]"
    console.print(
        f"target ≥ {target['km_reduction_wanted']:.0%} fewer km than {report['reference_fixed']} with no more "
        f"stock-outs: {verdict} (km reduction {target['km_reduction']}, stock-outs not more: "
        f"{target['stockouts_not_more']})"
    )
