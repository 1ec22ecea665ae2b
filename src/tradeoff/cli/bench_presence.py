"""``tradeoff bench presence``: zone-model accuracy on the UCI BLE data or on a site's own walk-through CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.table import Table

from tradeoff.bench.presence import DEFAULT_WINDOW_S, PresenceBenchOptions, run_csv, run_uci
from tradeoff.cli.common import console, err_console, print_json


def split_columns(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``bench`` group."""

    @app.command("presence")
    def presence(
        data: Path | None = typer.Option(None, help="UCI BLE RSSI dataset directory (iBeacon_RSSI_Labeled.csv)"),
        csv: Path | None = typer.Option(None, help="generic mode: a labelled walk-through CSV"),
        label: str = typer.Option("", help="CSV: the label (cell or zone) column"),
        group: str = typer.Option("", help="CSV: the group column; a group never spans folds (e.g. a visit)"),
        rssi: str = typer.Option("", help="CSV: beacon RSSI columns, comma-separated"),
        time: str = typer.Option("", help="CSV: time column; readings are then combined per group over --window"),
        time_format: str = typer.Option("", help="CSV: strftime format of the time column (default: guess)"),
        folds: int = typer.Option(5, help="outer grouped CV folds"),
        seed: int = typer.Option(0, help="fold assignment seed"),
        grouping: str = typer.Option("visit", help="UCI: CV groups, 'visit' (default) or 'day' (stricter)"),
        repeats: int = typer.Option(1, help="UCI: rerun the CV with seeds seed..seed+N-1 and report the mean"),
        window: float = typer.Option(DEFAULT_WINDOW_S, help="seconds of a stationary device's scans combined"),
        compare: bool | None = typer.Option(None, help="also run the other models tried (default: UCI yes, CSV no)"),
        tracking: bool = typer.Option(True, help="with times: also report the live tracker (forward filter)"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    ) -> None:
        """Zone model accuracy under grouped cross-validation, next to plain kNN on the same folds."""
        if (data is None) == (csv is None):
            _fail("give exactly one of --data (UCI dataset) or --csv (generic walk-through)")
        options = PresenceBenchOptions(
            folds=folds,
            grouping=grouping,
            seed=seed,
            window_s=window,
            repeats=repeats,
            compare=compare if compare is not None else csv is None,
            tracking=tracking,
        )
        progress = None if as_json else (lambda line: err_console.print(f"[dim]{line}[/dim]"))
        try:
            if data is not None:
                report = run_uci(data, options, progress)
            else:
                assert csv is not None
                columns = split_columns(rssi)
                if not label or not group or not columns:
                    _fail("--csv needs --label, --group and --rssi")
                report = run_csv(
                    csv,
                    label=label,
                    group=group,
                    rssi=columns,
                    time_column=time or None,
                    time_format=time_format or None,
                    options=options,
                    progress=progress,
                )
        except (OSError, ValueError) as exc:
            _fail(str(exc))
        if as_json:
            print_json(report)
        else:
            _print(report)


def _fail(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _fmt(block: dict[str, Any] | None, key: str) -> str:
    return "—" if not block or key not in block else f"{block[key]:.3f}"


def _print(report: dict[str, Any]) -> None:
    cv = report["cv"]
    grid = "exact_cell_accuracy" in report["models"][0]["per_scan"]
    keys = ["exact_cell_accuracy", "mean_cell_error", "zone_accuracy"] if grid else ["accuracy", "macro_accuracy"]
    short = {
        "exact_cell_accuracy": "exact",
        "mean_cell_error": "mean err",
        "zone_accuracy": "zone",
        "accuracy": "acc",
        "macro_accuracy": "macro acc",
    }
    tracked = any("tracked" in row for row in report["models"])
    table = Table(
        "model",
        *[f"{short[key]} (scan)" for key in keys],
        *[f"{short[key]} ({cv['window_s']:g} s)" for key in keys if cv["window_s"]],
        *[f"{short[key]} (tracked)" for key in keys if tracked],
        title=f"presence · {report['data']['source']} · {cv['folds']}-fold grouped CV, seed {cv['seed']}",
        caption=f"{report['data']['scans']} scans, {report['data']['groups']} groups; "
        f"best possible exact: {report.get('ceiling_exact', report.get('ceiling_accuracy', 0)):.3f}",
    )
    for row in report["models"]:
        cells = [_fmt(row["per_scan"], key) for key in keys]
        if cv["window_s"]:
            cells += [_fmt(row.get("windowed"), key) for key in keys]
        if tracked:
            cells += [_fmt(row.get("tracked"), key) for key in keys]
        table.add_row(row["name"], *cells)
    console.print(table)
    for view, target in report.get("targets", {}).items():
        verdict = "[green]met[/green]" if target["met"] else "[red]not met[/red]"
        console.print(
            f"target ({view}): exact ≥ {target['exact_cell_accuracy']}, mean error ≤ {target['mean_cell_error']}: "
            f"{verdict}"
        )
