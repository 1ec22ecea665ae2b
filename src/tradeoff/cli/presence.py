"""``tradeoff presence …`` commands: calibrate a store's zone model from a walk-through, locate with it."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from tradeoff.cli.common import console, err_console, print_json
from tradeoff.presence.model import calibration
from tradeoff.presence.model.grouping import DEFAULT_MAX_GAP_S, visit_groups
from tradeoff.presence.model.walkthrough import load_csv

app = typer.Typer(no_args_is_help=True, help="Presence: store calibration and zone models")


def _fail(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _columns(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@app.command("calibrate")
def calibrate(
    csv: Path = typer.Option(..., help="walk-through CSV: one scan per row"),
    label: str = typer.Option(..., help="the cell/zone label column (grid cells like 'O02' get coordinates)"),
    rssi: str = typer.Option(..., help="beacon RSSI columns, comma-separated (blank or ≤ -150 = not heard)"),
    out: Path = typer.Option(..., help="model file to write (JSON)"),
    group: str = typer.Option("", help="visit/session column: parameters are then chosen by grouped CV"),
    time: str = typer.Option("", help="time column: without --group, visits are cut where a cell's scans gap"),
    time_format: str = typer.Option("", help="strftime format of the time column (default: guess)"),
    visit_gap: float = typer.Option(DEFAULT_MAX_GAP_S, help="seconds between a cell's scans that start a new visit"),
    seed: int = typer.Option(0, help="fold assignment seed for the parameter search"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Walk-through samples → a zone model file."""
    columns = _columns(rssi)
    try:
        data = load_csv(
            csv, label=label, rssi=columns, group=group or None, time=time or None, time_format=time_format or None
        )
        groups = data.groups
        if groups is None and data.times is not None:
            groups = visit_groups(data.labels, data.times, visit_gap).astype(str)
        store = calibration.calibrate(data.matrix, data.labels, data.beacons, groups=groups, seed=seed)
        calibration.save(store, out)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    summary = {
        "model": str(out),
        "scans": len(data.labels),
        "cells": len(store.model.classes_),
        "beacons": list(store.beacons),
        "grid": store.layout is not None,
        "params": calibration.to_dict(store)["params"],
        "selection": store.info.get("selection"),
    }
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"wrote [bold]{out}[/bold]: {summary['cells']} cells from {summary['scans']} scans, "
            f"{len(columns)} beacons; parameters: {summary['selection']} {summary['params']}"
        )


def _scan(text: str) -> dict[str, float]:
    readings: dict[str, float] = {}
    for part in _columns(text):
        beacon, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"rssi: {part!r} is not beacon=dBm")
        try:
            readings[beacon.strip()] = float(value)
        except ValueError:
            raise ValueError(f"rssi: {value!r} is not a number (in {part!r})") from None
    return readings


@app.command("locate")
def locate(
    model: Path = typer.Option(..., help="model file from `tradeoff presence calibrate`"),
    rssi: list[str] = typer.Option(..., help="one scan as beacon=dBm,…; repeat for scans taken at the same spot"),
    top: int = typer.Option(3, help="how many candidates to list"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Where a device is, from one or more scans taken while it stayed put."""
    try:
        store = calibration.load(model)
        where = store.locate([_scan(text) for text in rssi], top=top)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    result = {
        "cell": where.label,
        "probability": where.probability,
        "zone": where.zone,
        "xy": where.xy,
        "beacons_heard": where.beacons_heard,
        "candidates": [{"cell": label, "probability": p} for label, p in where.candidates],
    }
    if as_json:
        print_json(result)
    else:
        zone = f" (zone {where.zone})" if where.zone else ""
        console.print(f"[bold]{where.label}[/bold]{zone}, p = {where.probability:.2f}")
        for label, probability in where.candidates:
            console.print(f"  {label}: {probability:.2f}")
