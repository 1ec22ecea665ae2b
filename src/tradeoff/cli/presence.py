"""``tradeoff presence …`` commands: calibrate a store's zone model from a walk-through, locate with it,
install it for a site's live tracking (and show or remove the installed one)."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import orjson
import typer
from sqlalchemy import Connection

from tradeoff.cli.common import console, err_console, print_json, transaction
from tradeoff.core.errors import NotFound
from tradeoff.platform import tenancy
from tradeoff.presence.model import calibration
from tradeoff.presence.model.grouping import DEFAULT_MAX_GAP_S, visit_groups
from tradeoff.presence.model.walkthrough import load_csv

app = typer.Typer(no_args_is_help=True, help="Presence: store calibration and zone models")


def _fail(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def _columns(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


ZONE = typer.Option([], "--zone", help="CLASS=ZONE: put a model class (cell) in a floor-plan zone; repeat")
RECEIVER = typer.Option([], "--receiver", help="BEACON=KEY: the live receiver key of a beacon column; repeat")


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, target = value.partition("=")
        if not sep or not name.strip() or not target.strip():
            _fail(f"{option}: {value!r} is not NAME=VALUE")
        out[name.strip()] = target.strip()
    return out


def _site_id(conn: Connection, tenant_id: str, ref: str) -> str:
    found = [site for site in tenancy.list_sites(conn, tenant_id=tenant_id) if ref in (site.id, site.name)]
    if len(found) != 1:
        raise NotFound(f"no site {ref!r} of this tenant" if not found else f"several sites are named {ref!r}")
    return found[0].id


def _install(tenant: str, site: str, document: object, zone: list[str], receiver: list[str]) -> dict[str, object]:
    from tradeoff.presence.setup import zone_model

    zones, receivers = _pairs(zone, "--zone"), _pairs(receiver, "--receiver")
    with transaction() as conn:
        tenant_id = tenancy.tenant_by_ref(conn, tenant).id
        site_id = _site_id(conn, tenant_id, site)
        summary = zone_model.install(
            conn,
            tenant_id=tenant_id,
            site_id=site_id,
            model=document,
            zones=zones or None,
            receivers=receivers or None,
            created_by="cli",
        )
    return summary.to_json()


def _print_installed(summary: dict[str, object]) -> None:
    zones = summary["zones"]
    receivers = summary["receivers"]
    assert isinstance(zones, list) and isinstance(receivers, list)
    console.print(
        f"installed for site [bold]{summary['site_id']}[/bold]: zones {', '.join(map(str, zones))}; "
        f"receivers {', '.join(map(str, receivers))} (live tracking picks it up within 5 minutes)"
    )
    unknown = summary.get("unknown_receivers")
    if unknown:
        assert isinstance(unknown, list)
        console.print(f"[yellow]not a beacon or gateway of this site:[/yellow] {', '.join(map(str, unknown))}")


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
    install: bool = typer.Option(False, "--install", help="also install the model for --site's live tracking"),
    tenant: str = typer.Option("", help="with --install: tenant slug or id"),
    site: str = typer.Option("", help="with --install: site id or name"),
    zone: list[str] = ZONE,
    receiver: list[str] = RECEIVER,
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Walk-through samples → a zone model file (and, with --install, the site's live zone model)."""
    if install and not (tenant and site):
        _fail("--install needs --tenant and --site")
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
    if install:
        summary["installed"] = _install(tenant, site, calibration.to_dict(store), zone, receiver)
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"wrote [bold]{out}[/bold]: {summary['cells']} cells from {summary['scans']} scans, "
            f"{len(columns)} beacons; parameters: {summary['selection']} {summary['params']}"
        )
        if install:
            _print_installed(summary["installed"])


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


@app.command("install-model")
def install_model(
    model: Path = typer.Argument(..., help="model file from `tradeoff presence calibrate`"),
    tenant: str = typer.Option(..., help="tenant slug or id"),
    site: str = typer.Option(..., help="site id or name"),
    zone: list[str] = ZONE,
    receiver: list[str] = RECEIVER,
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Install a zone model for a site's live tracking (replaces the one installed)."""
    try:
        document = orjson.loads(model.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        _fail(f"{model}: {exc}")
    summary = _install(tenant, site, document, zone, receiver)
    if as_json:
        print_json(summary)
    else:
        _print_installed(summary)


@app.command("model-status")
def model_status(
    tenant: str = typer.Option(..., help="tenant slug or id"),
    site: str = typer.Option(..., help="site id or name"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """The zone model installed for a site (exit 1 when it uses path-loss only)."""
    from tradeoff.presence.setup import zone_model

    with transaction() as conn:
        tenant_id = tenancy.tenant_by_ref(conn, tenant).id
        summary = zone_model.get(conn, tenant_id=tenant_id, site_id=_site_id(conn, tenant_id, site)).to_json()
    if as_json:
        print_json(summary)
    else:
        _print_installed(summary)


@app.command("remove-model")
def remove_model(
    tenant: str = typer.Option(..., help="tenant slug or id"),
    site: str = typer.Option(..., help="site id or name"),
) -> None:
    """Remove a site's zone model: live tracking goes back to the path-loss zones."""
    from tradeoff.presence.setup import zone_model

    with transaction() as conn:
        tenant_id = tenancy.tenant_by_ref(conn, tenant).id
        removed = zone_model.remove(conn, tenant_id=tenant_id, site_id=_site_id(conn, tenant_id, site))
    console.print("removed: the site uses path-loss zones" if removed else "no zone model was installed")
