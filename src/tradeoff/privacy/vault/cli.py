"""``tradeoff privacy rotate-keys|replay-erasures``: operator commands for the vault.

Mounted by the ``tradeoff`` command: ``app.add_typer(vault_cli.app, name="privacy")`` (or merged into the
privacy sub-app). Only ``platform`` and ``privacy`` are imported here, so the dependency rule holds.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from tradeoff.core.errors import TradeoffError
from tradeoff.platform import tenancy
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.settings import Settings
from tradeoff.privacy.audit.actors import CLI
from tradeoff.privacy.audit.trail import AuditTrail
from tradeoff.privacy.keys import KeyringError
from tradeoff.privacy.vault.config import build_key_provider, build_vault
from tradeoff.privacy.vault.erasure_ledger import LedgerError

app = typer.Typer(no_args_is_help=True, help="Privacy vault: key rotation and the erasure ledger")
console = Console()
err_console = Console(stderr=True)

JSON = typer.Option(False, "--json", help="machine-readable output")


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(1)


@app.command("rotate-keys")
def rotate_keys(
    tenant: str = typer.Option(..., help="tenant slug or id"),
    resume: bool = typer.Option(
        False, "--resume", help="finish an interrupted rotation: re-wrap to the current KEK, no new version"
    ),
    batch_size: int = typer.Option(200, min=1, max=10_000, help="data keys re-wrapped per transaction"),
    as_json: bool = JSON,
) -> None:
    """Rotate the tenant's key-encryption key and re-wrap every subject's data key under it, in small
    transactions while the platform keeps running. Ciphertext is untouched."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            tenant_id = tenancy.tenant_by_ref(conn, tenant).id
        keys = build_key_provider(settings)
        vault = build_vault(settings, engine, provider=keys)
        audit = AuditTrail.from_settings(settings, keys=keys)
        with Progress(
            TextColumn("re-wrapping data keys"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
            disable=as_json,
        ) as progress:
            task = progress.add_task("rewrap", total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = vault.rotate_kek(
                tenant_id,
                new_version=not resume,
                batch_size=batch_size,
                on_progress=on_progress,
                audit=audit,
                actor=CLI,
            )
    except (TradeoffError, KeyringError) as exc:
        raise _fail(exc.message if isinstance(exc, TradeoffError) else str(exc)) from None
    finally:
        engine.dispose()
    if as_json:
        _print_json({**asdict(report), "complete": report.complete})
    else:
        console.print(
            f"tenant {report.tenant_id}: KEK version {report.kek_version}; re-wrapped {report.rewrapped} "
            f"of {report.total} data keys (skipped {report.skipped}, failed {report.failed}, "
            f"remaining {report.remaining})"
        )
        if not report.complete:
            err_console.print("some data keys are still under an older KEK: run again with --resume")
    if not report.complete:
        raise typer.Exit(1)


@app.command("replay-erasures")
def replay_erasures(as_json: bool = JSON) -> None:
    """Re-apply the erasure ledger: run after restoring a database backup (safe to run any time)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        report = build_vault(settings, engine).replay_erasures()
    except (LedgerError, KeyringError) as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()
    summary = {
        "ledger_entries": report.entries,
        "subjects_found": report.subjects_found,
        "reshredded": report.reshredded,
        "keys_deleted": report.keys_deleted,
        "derived_rows_deleted": report.derived_rows_deleted,
    }
    if as_json:
        _print_json(summary)
    else:
        console.print(
            f"{report.entries} erasures in the ledger; {report.reshredded} erased subjects had data again "
            f"({report.keys_deleted} data keys, {report.derived_rows_deleted} derived rows deleted)"
        )
