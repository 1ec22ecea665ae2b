"""``tradeoff bench offers``: sighting → coupon throughput and latency (in-memory hot path, then SQLite)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from tradeoff.bench.offers import TARGET_P99_MS, OffersBenchOptions, run_offers_bench
from tradeoff.cli.common import console, err_console, print_json


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``bench`` group."""

    @app.command("offers")
    def offers(
        rate: float = typer.Option(5000, help="offered load of the paced runs, sightings/s"),
        duration: float = typer.Option(20, help="seconds of stream for the in-memory runs"),
        seed: int = typer.Option(1, help="world and stream seed"),
        repeat: int = typer.Option(2, help="open-loop runs; the one with the lowest coupon p99 is reported"),
        e2e: bool = typer.Option(True, help="also run the stream through the platform on SQLite"),
        e2e_duration: float = typer.Option(10, help="seconds of stream for the SQLite run (≥ 8: entries take 4 s)"),
        e2e_rate: float = typer.Option(0, help="offered load of the SQLite run (0: --rate)"),
        tick: float = typer.Option(0.05, help="SQLite run: the transports' batching window, seconds"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    ) -> None:
        """Sightings/s through decode → privacy gate → tracker → decision → coupon code, and p50/p99 latency
        from a sighting to its coupon at a fixed offered load (target p99 ≤ 10 ms in-process)."""
        if rate <= 0 or duration <= 0 or e2e_duration <= 0 or tick <= 0 or e2e_rate < 0 or repeat < 1:
            err_console.print("[red]error:[/red] rate, durations and tick must be positive")
            raise typer.Exit(1)
        options = OffersBenchOptions(
            rate=rate,
            duration_s=duration,
            seed=seed,
            repeat=repeat,
            e2e=e2e,
            e2e_duration_s=e2e_duration,
            e2e_rate=e2e_rate,
            tick_s=tick,
        )
        progress = None if as_json else (lambda line: err_console.print(f"[dim]{line}[/dim]"))
        report = run_offers_bench(options, progress)
        if as_json:
            print_json(report)
        else:
            _print(report)


def _ms(block: dict[str, float]) -> list[str]:
    return [f"{block[key]:,.2f}" for key in ("p50", "p95", "p99", "max")]


def _print(report: dict[str, Any]) -> None:
    machine = report["machine"]
    table = Table(
        "run", "sightings/s", "coupons", "p50 ms", "p95 ms", "p99 ms", "max ms",
        title=f"offers · {report['date']} · {machine['cpu_count']} × {machine['cpu_model']}",
        caption=f"latency: sighting → coupon (max run: service time per sighting); target p99 ≤ {TARGET_P99_MS:g} ms "
        f"at {report['target']['at_rate']:,.0f}/s in-process",
    )  # fmt: skip
    for name in ("hot_max", "hot_paced"):
        row = report[name]
        table.add_row(
            name, f"{row['sightings_per_s']:,.0f}", f"{row['counts']['coupons']:,}", *_ms(row["coupon_latency_ms"])
        )
    e2e = report.get("e2e_sqlite")
    if e2e:
        table.add_row(
            f"e2e_sqlite @ {e2e['offered_rate']:,.0f}/s",
            f"{e2e['sightings_per_s']:,.0f}",
            f"{e2e['coupons']:,}",
            *_ms(e2e["coupon_latency_ms"]),
        )
    console.print(table)
    paced = report["hot_paced"]
    verdict = "[green]met[/green]" if report["target_met"] else "[red]not met[/red]"
    console.print(
        f"all sightings, open loop: p50 {paced['latency_ms']['p50']:.2f} ms, p99 {paced['latency_ms']['p99']:.2f} ms"
    )
    console.print(f"counts: {paced['counts']}")
    console.print(f"target: {verdict}")
