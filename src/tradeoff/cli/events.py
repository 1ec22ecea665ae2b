"""``tradeoff events import|tail``: bulk-load JSON lines through the pipeline, follow the log."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tradeoff.cli.common import console, engine_scope, err_console, print_json, settings
from tradeoff.core.clock import utcnow
from tradeoff.platform import tenancy
from tradeoff.platform.eventlog import max_seq, read_events
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline

app = typer.Typer(no_args_is_help=True, help="The event log")


@app.command("import")
def import_events(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON lines, one envelope per line"),
    tenant: str = typer.Option(..., help="tenant slug or id"),
    batch: int = typer.Option(1000, min=1, max=5000, help="events per transaction"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import events exactly as the HTTP API would: validated, deduplicated, bad lines dead-lettered."""
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "dropped": 0}
    with engine_scope() as engine:
        with engine.connect() as conn:
            tenant_id = tenancy.tenant_by_ref(conn, tenant).id
        pipeline = IngestPipeline(engine=engine, decoders=default_registry(settings().max_batch_events))
        size = file.stat().st_size
        with (
            Progress(
                TextColumn("importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err_console,
                disable=as_json,
            ) as progress,
            file.open("rb") as handle,
        ):
            task = progress.add_task("import", total=size)
            lines: list[bytes] = []
            for line in handle:
                progress.advance(task, len(line))
                if line.strip():
                    lines.append(line.strip())
                if len(lines) >= batch:
                    _flush(pipeline, tenant_id, lines, totals)
            _flush(pipeline, tenant_id, lines, totals)
    if as_json:
        print_json(totals)
    else:
        console.print(", ".join(f"{k}: {v}" for k, v in totals.items()))


def _flush(pipeline: IngestPipeline, tenant_id: str, lines: list[bytes], totals: dict[str, int]) -> None:
    if not lines:
        return
    now = utcnow()
    messages = [RawMessage(body=line, transport="file", tenant_id=tenant_id, received_at=now) for line in lines]
    for report in pipeline.ingest_many(messages, decoder="json"):
        if report is None:
            totals["rejected"] += 1
            continue
        totals["accepted"] += report.count("accepted")
        totals["duplicates"] += report.count("duplicate")
        totals["rejected"] += report.count("rejected")
        totals["dropped"] += report.count("dropped")
    lines.clear()


@app.command("tail")
def tail(
    tenant: str = typer.Option(..., help="tenant slug or id"),
    follow: bool = typer.Option(True, "--follow/--no-follow", help="keep waiting for new events"),
    last: int = typer.Option(10, help="start this many events back"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
) -> None:
    """Print events as they are committed (polls the log, so it sees every transport and process)."""
    with engine_scope() as engine:
        with engine.connect() as conn:
            tenant_id = tenancy.tenant_by_ref(conn, tenant).id
            cursor = max(0, max_seq(conn) - last)
        try:
            while True:
                with engine.connect() as conn:
                    batch = read_events(conn, after_seq=cursor, limit=500, tenant_id=tenant_id)
                for event in batch:
                    cursor = event.seq
                    if as_json:
                        typer.echo(orjson.dumps(event.to_json()).decode())
                    else:
                        console.print(
                            f"[dim]{event.seq:>8}[/dim] {event.occurred_at:%H:%M:%S} "
                            f"[cyan]{event.type}[/cyan] {event.source} {event.event_id}",
                            highlight=False,
                        )
                if not follow:
                    return
                if not batch:
                    time.sleep(0.5)
        except KeyboardInterrupt:
            return
