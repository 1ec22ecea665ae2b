"""``tradeoff bench irp``: the inventory-routing solver against Archetti et al. (2007) reference values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tradeoff.bench.irp import InstanceResult, find_instances, run_irp_bench
from tradeoff.cli.common import console, err_console, print_json
from tradeoff.vending.irp import InstanceFormatError


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``bench`` group."""
    app.command("irp")(irp)


def irp(
    directory: Path = typer.Option(..., "--dir", help="folder searched recursively for Archetti .dat instances"),
    seconds: float = typer.Option(60.0, "--seconds", min=0.1, help="time budget per instance"),
    seed: int = typer.Option(0, help="random seed of the solver"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Solve every instance, check it independently, report cost vs ref_obj (target: mean gap ≤ 1%)."""
    total = len(find_instances(directory)) if directory.is_dir() else 0
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("irp", total=total)

        def progress(path: str, result: InstanceResult | None) -> None:
            if result is None:
                bar.update(task, description=Path(path).stem)
            else:
                bar.advance(task)

        try:
            report = run_irp_bench(directory, seconds=seconds, seed=seed, progress=progress)
        except (ValueError, InstanceFormatError) as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    if as_json:
        print_json(report)
    else:
        _print_table(report)


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _print_table(report: dict[str, Any]) -> None:
    machine = report["machine"]
    table = Table(
        "instance",
        "n",
        "H",
        "cost",
        "ref_obj",
        "gap %",
        "feasible",
        "optimal",
        "seconds",
        title=f"irp · {report['date']} · {machine['cpu_count']} × {machine['cpu_model']}",
        caption=f"{report['seconds_per_instance']:g} s per instance; cost recomputed by the independent checker",
    )
    for row in report["instances"]:
        table.add_row(
            row["name"],
            str(row["n"]),
            str(row["horizon"]),
            _fmt(row["cost"], ",.2f"),
            _fmt(row["ref_obj"], ",.2f"),
            _fmt(row["gap_pct"], ".3f"),
            "[green]yes[/green]" if row["feasible"] else "[red]no[/red]",
            "yes" if row["optimal"] else "",
            f"{row['seconds']:.1f}",
        )
    console.print(table)
    verdict = "[green]met[/green]" if report["target_met"] else "[red]missed[/red]"
    console.print(
        f"mean gap {_fmt(report['mean_gap_pct'], '.3f')} % (target ≤ {report['target_gap_pct']:g} %): {verdict}"
    )
    for row in report["instances"]:
        for violation in row["violations"]:
            console.print(f"[red]{row['name']}[/red]: {violation}")
