"""``tradeoff privacy verify-audit`` and ``tradeoff privacy audit-checkpoint``.

Mount with ``register(privacy_app)`` (adds both commands to an existing Typer group) or add ``app`` as a
group. Exit code 0 when every chain verifies, 1 when one is broken, 2 on a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from tradeoff.core.errors import NotFound
from tradeoff.platform import tenancy
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.settings import Settings
from tradeoff.privacy.audit.trail import AuditTrail
from tradeoff.privacy.audit.verify import VerifyReport

console = Console()
err_console = Console(stderr=True)

TENANT = typer.Option(None, "--tenant", help="tenant slug or id (all tenants when omitted)")
JSON = typer.Option(False, "--json", help="machine-readable output")


@contextmanager
def _engine() -> Iterator[tuple[Settings, Engine]]:
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        yield settings, engine
    finally:
        engine.dispose()


def _tenant_id(engine: Engine, ref: str | None) -> str | None:
    """A slug or id of a known tenant; an unknown string is taken as a raw id (a deleted tenant's log)."""
    if ref is None:
        return None
    with engine.connect() as conn:
        try:
            return tenancy.tenant_by_ref(conn, ref).id
        except NotFound:
            return ref


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


TrailFactory = Callable[[Settings], AuditTrail]


def _default_trail(settings: Settings) -> AuditTrail:
    if not settings.keyring_path.exists():
        # verifying with a fresh keyring would report every entry as edited (and create keys as a side effect)
        raise typer.BadParameter(f"keyring {settings.keyring_path} not found (TRADEOFF_KEYRING_PATH)")
    return AuditTrail.from_settings(settings)


def _print_report(report: VerifyReport) -> None:
    if not report.tenants:
        console.print("no audit entries")
        return
    table = Table("tenant", "entries", "last seq", "checkpoint", "status")
    for t in report.tenants:
        status = "[green]ok[/green]" if t.broken is None else f"[red]{t.broken.kind.value} at {t.broken.seq}[/red]"
        table.add_row(t.tenant_id, str(t.entries), str(t.last_seq or "-"), str(t.latest_checkpoint_seq or "-"), status)
    console.print(table)
    for t in report.tenants:
        if t.broken is not None:
            err_console.print(f"[red]{t.tenant_id}:[/red] first broken entry {t.broken.seq}: {t.broken.message}")
        for warning in t.warnings:
            err_console.print(f"[yellow]{t.tenant_id}:[/yellow] {warning}")


def register(group: typer.Typer, *, make_trail: TrailFactory | None = None) -> None:
    """Add ``verify-audit`` and ``audit-checkpoint`` to ``group`` (e.g. the ``tradeoff privacy`` app).
    ``make_trail`` builds the ``AuditTrail`` with the deployment's key provider (default: the local keyring)."""
    factory = make_trail or _default_trail

    @group.command("verify-audit")
    def verify_audit(tenant: str | None = TENANT, as_json: bool = JSON) -> None:
        """Verify the audit chain(s): edits, deletions, insertions, reordering, truncation, forged checkpoints."""
        with _engine() as (settings, engine):
            report = factory(settings).verify(engine, _tenant_id(engine, tenant))
        if as_json:
            _print_json(report.to_dict())
        else:
            _print_report(report)
        if not report.ok:
            raise typer.Exit(1)

    @group.command("audit-checkpoint")
    def audit_checkpoint(tenant: str | None = TENANT, as_json: bool = JSON) -> None:
        """Sign the current head of the audit chain(s) now (to the table and the off-database file)."""
        with _engine() as (settings, engine):
            trail = factory(settings)
            tenant_id = _tenant_id(engine, tenant)
            if tenant_id is None:
                made = trail.checkpoint_all(engine)
            else:
                one = trail.checkpoint(engine, tenant_id)
                made = [] if one is None else [one]
        if as_json:
            _print_json([cp.to_json() for cp in made])
            return
        if not made:
            console.print("nothing to checkpoint")
        for cp in made:
            console.print(f"checkpoint {cp.tenant_id} seq {cp.seq} (key {cp.key_id})")


app = typer.Typer(no_args_is_help=True, help="Privacy audit chain")
register(app)
