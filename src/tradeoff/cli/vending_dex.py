"""``tradeoff vending parse-dex FILE`` and ``tradeoff vending import-dex DIR``: DEX/EVA-DTS audits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tradeoff.cli.common import console, err_console, print_json, settings
from tradeoff.core.clock import utcnow
from tradeoff.core.errors import TradeoffError
from tradeoff.platform import tenancy
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.vending.dex import DexAudit, DexError, parse_dex
from tradeoff.vending.dex.decoder import register_decoders

MAX_FILE_BYTES = 4 * 1024 * 1024  # a DEX audit is a few KiB; anything this big is not one


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``vending`` group."""
    app.command("parse-dex")(parse_dex_command)
    app.command("import-dex")(import_dex_command)


def parse_dex_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="a DEX/EVA-DTS audit file"),
    as_json: bool = typer.Option(False, "--json", help="print the parse result as JSON"),
) -> None:
    """Parse one audit: machine, read time, totals, columns, checksum and warnings."""
    try:
        audit = parse_dex(file.read_bytes())
    except DexError as exc:
        err_console.print(f"[red]error:[/red] {file}: not a DEX audit: {exc}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        print_json(audit.to_json())
    else:
        _print_audit(audit)


def _print_audit(audit: DexAudit) -> None:
    machine, checksum = audit.machine, audit.checksum
    console.print(
        f"[bold]{machine.serial or '?'}[/bold] {machine.model or ''} asset {machine.asset or '-'}  "
        f"read {audit.read_at or '?'}  currency {audit.currency or '?'} ({audit.decimals} decimals)",
        highlight=False,
    )
    if audit.totals:
        console.print(f"paid vends {audit.totals.vends}, value {audit.totals.value} (minor units)", highlight=False)
    state = "absent" if not checksum.present else ("valid" if checksum.valid else "INVALID")
    console.print(
        f"checksum {state}{f' ({checksum.variant})' if checksum.variant else ''}"
        f"{'  [red]TRUNCATED[/red]' if audit.truncated else ''}"
    )
    table = Table("selection", "product", "price", "vends total", "value total", "vends since reset")
    for column in audit.columns:
        table.add_row(
            column.selection,
            column.product or "",
            *(str(value) if value is not None else "-" for value in (column.price, column.vends_total)),
            *(str(value) if value is not None else "-" for value in (column.value_total, column.vends_since_reset)),
        )
    console.print(table)
    for warning in audit.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)


def import_dex_command(
    directory: Path = typer.Argument(..., exists=True, file_okay=False, help="folder of audits (read recursively)"),
    tenant: str = typer.Option(..., help="tenant slug or id"),
    device: str | None = typer.Option(None, help="device the audits come from (default: each machine's serial)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ingest every file under DIR through the pipeline (privacy gate, dedup, dead letters), like an upload."""
    files = sorted(_files(directory))
    totals = {"files": len(files), "accepted": 0, "duplicates": 0, "rejected": 0, "dropped": 0}
    rejected: list[dict[str, Any]] = []
    # The same pipeline as the server (privacy gate included); no MQTT transport, processors not started
    # (a running server or worker applies the new events).
    platform = build_platform(settings().model_copy(update={"mqtt_url": ""}))
    try:
        if not platform.decoders.has("dex"):
            register_decoders(platform.decoders)
        tenant_id = _tenant_id(platform, tenant)
        with Progress(
            TextColumn("importing DEX"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
            disable=as_json,
        ) as progress:
            task = progress.add_task("import", total=len(files))
            for path in files:
                _import_one(platform, tenant_id, device, path, directory, totals, rejected)
                progress.advance(task)
    finally:
        platform.close()
    if as_json:
        print_json({**totals, "rejections": rejected})
        return
    console.print(", ".join(f"{key}: {value}" for key, value in totals.items()))
    for item in rejected:
        console.print(f"[red]rejected[/red] {item['file']}: {item['reason']}", highlight=False)


def _files(directory: Path) -> Iterator[Path]:
    return (path for path in directory.rglob("*") if path.is_file() and not path.name.startswith("."))


def _tenant_id(platform: Platform, ref: str) -> str:
    try:
        with platform.engine.connect() as conn:
            return tenancy.tenant_by_ref(conn, ref).id
    except TradeoffError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None


def _import_one(
    platform: Platform,
    tenant_id: str,
    device: str | None,
    path: Path,
    root: Path,
    totals: dict[str, int],
    rejected: list[dict[str, Any]],
) -> None:
    name = str(path.relative_to(root))
    if path.stat().st_size > MAX_FILE_BYTES:
        totals["rejected"] += 1
        rejected.append({"file": name, "reason": f"larger than {MAX_FILE_BYTES} bytes; not a DEX audit"})
        return
    message = RawMessage(
        body=path.read_bytes(), transport="file", tenant_id=tenant_id, received_at=utcnow(), source=device
    )
    errors: list[Any] = []
    [report] = platform.pipeline.ingest_many([message], decoder="dex", errors=errors)
    if report is None:
        totals["rejected"] += 1
        rejected.append({"file": name, "reason": errors[0].message if errors else "undecodable"})
        return
    totals["accepted"] += report.count("accepted")
    totals["duplicates"] += report.count("duplicate")
    totals["dropped"] += report.count("dropped")
    for item in report.items:
        if item.status == "rejected":
            totals["rejected"] += 1
            rejected.append({"file": name, "reason": f"{item.field}: {item.reason}"})
