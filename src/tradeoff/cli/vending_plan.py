"""``tradeoff vending plan``: plan one shift from a PlanRequest JSON file, or dispatch from the database
(``--tenant``: plan each depot, store the plans as dispatched, print routes, picks and load lists);
``tradeoff vending plans``: the recent stored plans."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.table import Table

from tradeoff.cli.common import console, engine_scope, err_console, print_json
from tradeoff.core.clock import utcnow
from tradeoff.core.errors import InvalidInput, TradeoffError
from tradeoff.platform import tenancy
from tradeoff.vending import fleet
from tradeoff.vending.dispatch import run_dispatch
from tradeoff.vending.plan_api import Names, plan_document
from tradeoff.vending.plan_store import latest_plans
from tradeoff.vending.planning.codec import plan_to_json, request_from_json
from tradeoff.vending.planning.planner import plan


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``vending`` group."""
    app.command("plan")(plan_command)
    app.command("plans")(plans_command)


def plan_command(
    request: Path | None = typer.Option(None, "--request", help="PlanRequest as JSON (see docs/vending-planning.md)"),
    tenant: str | None = typer.Option(None, "--tenant", help="dispatch from the database: tenant slug or id"),
    depot: str | None = typer.Option(None, "--depot", help="one depot (name or id); default: every depot"),
    at: str | None = typer.Option(None, "--at", help="plan as of this ISO time with offset (default: now)"),
    seconds: float = typer.Option(5.0, help="routing search time per routing pass"),
    seed: int = typer.Option(0, help="solver seed (same seed, same input → same plan)"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Which machines to serve, by which truck, when, with which picks (from a file, or dispatched from the
    database with --tenant)."""
    if (request is None) == (tenant is None):
        err_console.print("[red]error:[/red] give either --request FILE or --tenant T")
        raise typer.Exit(1)
    if tenant is not None:
        _dispatch(tenant, depot, _when(at), seconds, seed, as_json)
        return
    assert request is not None
    try:
        parsed = request_from_json(orjson.loads(request.read_bytes()))
    except (OSError, orjson.JSONDecodeError) as exc:
        err_console.print(f"[red]error:[/red] cannot read {request}: {exc}")
        raise typer.Exit(1) from None
    except InvalidInput as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    result = plan(parsed, seconds=seconds, seed=seed)
    if as_json:
        print_json(plan_to_json(result))
        return
    for truck in result.trucks:
        table = Table(
            "#",
            "machine",
            "reason",
            "eta",
            "units",
            title=f"{truck.truck_id}: {truck.distance_m / 1000:.1f} km, "
            f"{truck.departs:%H:%M}–{truck.returns:%H:%M}, load {sum(truck.load.values())} units",
        )
        for number, stop in enumerate(truck.stops, 1):
            units = sum(p.quantity for p in stop.picks)
            table.add_row(str(number), stop.machine_id, stop.reason, f"{stop.eta:%H:%M}", str(units))
        console.print(table)
    if not result.trucks:
        console.print("no routes")
    reasons = result.meta.get("deferred_reasons", {})
    for machine_id in result.deferred:
        why = reasons.get(machine_id, "") if isinstance(reasons, dict) else ""
        console.print(f"[yellow]deferred[/yellow] {machine_id}: {why}")


def _when(at: str | None) -> datetime | None:
    try:
        parsed = None if at is None else datetime.fromisoformat(at)
    except ValueError:
        parsed = None
    if at is not None and (parsed is None or parsed.tzinfo is None):
        err_console.print("[red]error:[/red] --at must be an ISO time with an offset (e.g. 2026-11-30T05:00:00+00:00)")
        raise typer.Exit(1)
    return parsed


def _dispatch(tenant: str, depot: str | None, at: datetime | None, seconds: float, seed: int, as_json: bool) -> None:
    try:
        with engine_scope() as engine:
            with engine.connect() as conn:
                tenant_id = tenancy.tenant_by_ref(conn, tenant).id
                depot_id = None if depot is None else _depot_id(conn, tenant_id, depot)
            plans = run_dispatch(
                engine, tenant_id=tenant_id, now=at or utcnow(), reason="manual", seconds=seconds, seed=seed,
                depot_id=depot_id,
            )  # fmt: skip
            with engine.connect() as conn:
                names = Names.of(conn, tenant_id)
    except TradeoffError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    documents = [plan_document(stored, names) for stored in plans]
    if as_json:
        print_json(documents)
        return
    if not documents:
        console.print("no depot has machines to plan")
    for document in documents:
        show_document(document)


def _depot_id(conn: Any, tenant_id: str, ref: str) -> str:
    for found in fleet.list_depots(conn, tenant_id=tenant_id):
        if ref in (found.id, found.name):
            return found.id
    raise InvalidInput("depot", f"no depot named {ref!r}")


def show_document(document: dict[str, Any]) -> None:
    """A stored plan for people: per truck its stops with ETA and picks, then its depot load list."""
    console.print(
        f"[bold]plan {document['id']}[/bold] {document['status']} ({document['reason']}), "
        f"depot {document['depot_id']}, {document['distance_m'] / 1000:.1f} km"
    )
    for truck in document["trucks"]:
        table = Table("#", "machine", "reason", "eta", "picks", title=f"{truck['truck_name'] or truck['truck_id']}: "
                      f"{truck['distance_m'] / 1000:.1f} km, {truck['departs'][11:16]}–{truck['returns'][11:16]} UTC, "
                      f"{truck['units']} units")  # fmt: skip
        for stop in truck["stops"]:
            picks = ", ".join(f"{p['selection']}:{p['product']}×{p['quantity']}" for p in stop["picks"])
            name = stop["machine_name"] or stop["machine_id"]
            table.add_row(str(stop["number"]), name, stop["reason"], stop["eta"][11:16], picks)
        console.print(table)
        load = Table("product", "name", "units", title="load at the depot")
        for line in truck["load"]:
            load.add_row(line["product"], line["name"] or "", str(line["quantity"]))
        console.print(load)
    for item in document["deferred"]:
        console.print(f"[yellow]deferred[/yellow] {item['machine_name'] or item['machine_id']}: {item['reason']}")


def plans_command(
    tenant: str = typer.Option(..., "--tenant", help="tenant slug or id"),
    status: str | None = typer.Option(None, help="proposed, dispatched, completed or superseded"),
    limit: int = typer.Option(10, min=1, max=100),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Recent plans, newest first."""
    try:
        with engine_scope() as engine, engine.connect() as conn:
            tenant_id = tenancy.tenant_by_ref(conn, tenant).id
            names = Names.of(conn, tenant_id)
            documents = [
                plan_document(stored, names)
                for stored in latest_plans(conn, tenant_id=tenant_id, status=status, limit=limit)
            ]
    except TradeoffError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    if as_json:
        print_json(documents)
        return
    table = Table("plan", "created", "status", "reason", "trucks", "stops", "km", "deferred")
    for doc in documents:
        stops = sum(len(t["stops"]) for t in doc["trucks"])
        row = (doc["id"], doc["created_at"][:16], doc["status"], str(doc["reason"] or ""), str(len(doc["trucks"])))
        table.add_row(*row, str(stops), f"{doc['distance_m'] / 1000:.1f}", str(len(doc["deferred"])))
    console.print(table)
