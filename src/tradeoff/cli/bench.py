"""``tradeoff bench <name>``: performance measured against a baseline taken in the same run."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from tradeoff.bench.ingest import PATHS, IngestOptions, run_ingest_bench
from tradeoff.bench.services import BenchError
from tradeoff.cli import bench_fleet, bench_irp, bench_offers, bench_presence, bench_routing
from tradeoff.cli.common import console, err_console, print_json

app = typer.Typer(no_args_is_help=True, help="Benchmarks (results go to docs/benchmarks.md)")


def register(root: typer.Typer) -> None:
    """Add this module's commands to the root app (``bench`` is added as a sub-app instead)."""


@app.command("ingest")
def ingest(
    events: int = typer.Option(100_000, help="events per HTTP path"),
    mqtt_events: int = typer.Option(50_000, help="events for the MQTT path, published as fast as possible"),
    mqtt_paced_rate: float = typer.Option(1000, help="MQTT messages/s of the steady run that measures latency"),
    mqtt_paced_events: int = typer.Option(5000, help="events in the steady MQTT run"),
    batch: int = typer.Option(1000, help="events per HTTP request (and raw-insert transaction)"),
    concurrency: int = typer.Option(4, help="concurrent HTTP connections"),
    window: int = typer.Option(20, help="MQTT publisher in-flight window (capped by the broker)"),
    repeat: int = typer.Option(2, help="runs of each path and raw limit; the fastest of each is reported"),
    pg_url: str = typer.Option(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server to create the benchmark databases on",
    ),
    mqtt_url: str = typer.Option(
        "", help="use this broker instead of a private mosquitto (it must not drop queued QoS 1 messages)"
    ),
    path: list[str] = typer.Option(list(PATHS), help=f"paths to run: {', '.join(PATHS)}"),
    workers: int = typer.Option(
        0, help="0: processors run inside the server (as shipped); N: in N separate `tradeoff worker` processes"
    ),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Ingest throughput and acknowledgement latency: HTTP → SQLite, HTTP → PostgreSQL, MQTT → PostgreSQL."""
    options = IngestOptions(
        http_events=events,
        mqtt_events=mqtt_events,
        mqtt_paced_rate=mqtt_paced_rate,
        mqtt_paced_events=mqtt_paced_events,
        batch=batch,
        concurrency=concurrency,
        window=window,
        repeat=repeat,
        pg_url=pg_url,
        mqtt_url=mqtt_url,
        paths=tuple(path),
        workers=workers,
    )
    try:
        report = run_ingest_bench(options, progress=lambda line: err_console.print(f"[dim]{line}[/dim]"))
    except (BenchError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        print_json(report)
    else:
        _print_table(report)


def _print_table(report: dict[str, Any]) -> None:
    machine = report["machine"]
    table = Table(
        "path",
        "events/s",
        "ack p50 ms",
        "ack p99 ms",
        "raw/s",
        "ratio",
        "target",
        title=f"ingest · {report['date']} · {machine['cpu_count']} × {machine['cpu_model']}",
        caption="target: the events/s floor (if any) and ≥ 0.5 × the raw limit, every event stored once",
    )
    for row in report["paths"]:
        floor = row["target_events_per_s"]
        verdict = "[green]met[/green]" if row["meets_target"] else "[red]missed[/red]"
        table.add_row(
            row["name"],
            f"{row['events_per_s']:,}",
            f"{row['ack_p50_ms']:,.1f}",
            f"{row['ack_p99_ms']:,.1f}",
            f"{row['raw_events_per_s']:,}",
            f"{row['ratio_to_raw']:.2f}",
            f"{verdict} (≥ {floor:,.0f})" if floor else verdict,
        )
    console.print(table)
    for row in report["paths"]:
        if row["paced"]:
            paced = row["paced"]
            console.print(
                f"{row['name']} at a steady {paced['rate_per_s']:,.0f}/s: "
                f"ack p50 {paced['ack_p50_ms']:,.1f} ms, p99 {paced['ack_p99_ms']:,.1f} ms"
            )


for module in (bench_routing, bench_irp, bench_fleet, bench_presence, bench_offers):
    module.register(app)
