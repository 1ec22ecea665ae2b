"""``tradeoff privacy export`` and ``tradeoff privacy erase``: data-subject requests handled by an operator.

Both are audited with actor ``cli`` (``dsr.export`` + ``personal.read``, ``dsr.erase``). They use the owner
connection (``TRADEOFF_DATABASE_URL``), the deployment's key provider, vault and erasure ledger, and an
audit trail sharing that key provider. Exit codes: 0 done, 1 failed (unknown tenant or subject, already
erased, keys unavailable), 2 usage error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import typer
from rich.console import Console
from sqlalchemy import Engine

from tradeoff.core.errors import TradeoffError
from tradeoff.platform import tenancy
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.settings import Settings
from tradeoff.privacy.audit.actors import CLI
from tradeoff.privacy.audit.trail import AuditTrail
from tradeoff.privacy.dsr.service import RequestedBy, erase, export_for
from tradeoff.privacy.keys import KeyringError
from tradeoff.privacy.vault.config import build_key_provider, build_vault
from tradeoff.privacy.vault.erasure_ledger import LedgerError
from tradeoff.privacy.vault.service import Vault

console = Console()
err_console = Console(stderr=True)

TENANT = typer.Option(..., "--tenant", help="tenant slug or id")
SUBJECT = typer.Option(..., "--subject", help="the subject id")
OUT = typer.Option(None, "--out", help="write the JSON here (mode 0600) instead of stdout")
YES = typer.Option(False, "--yes", help="do not ask for confirmation")
JSON = typer.Option(False, "--json", help="machine-readable output")


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(1)


def _write_private(path: Path, data: bytes) -> None:
    """The export is personal data: written 0600, replacing any older file atomically."""
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


@dataclass(frozen=True)
class _Context:
    engine: Engine
    tenant_id: str
    vault: Vault
    audit: AuditTrail


@contextmanager
def _context(tenant: str) -> Iterator[_Context]:
    """Engine, tenant, vault and audit trail sharing the deployment's key provider; errors → exit 1."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            tenant_id = tenancy.tenant_by_ref(conn, tenant).id
        keys = build_key_provider(settings)
        vault = build_vault(settings, engine, provider=keys)
        yield _Context(engine, tenant_id, vault, AuditTrail.from_settings(settings, keys=keys))
    except TradeoffError as exc:
        raise _fail(exc.message) from None
    except (KeyringError, LedgerError) as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()


def register(group: typer.Typer) -> None:
    """Add ``export`` and ``erase`` to ``group`` (the ``tradeoff privacy`` app)."""

    @group.command("export")
    def export_command(
        tenant: str = TENANT,
        subject: str = SUBJECT,
        out: Path | None = OUT,
    ) -> None:
        """Export everything held about a subject as JSON (format tradeoff-dsr/1); audited as a staff read."""
        with _context(tenant) as ctx:
            document = export_for(
                ctx.engine,
                tenant_id=ctx.tenant_id,
                subject_id=subject,
                vault=ctx.vault,
                audit=ctx.audit,
                actor=CLI,
                requested_by=RequestedBy.CLI,
            )
        data = orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
        if out is None:
            sys.stdout.write(data.decode())
            return
        _write_private(out, data)
        tables = sum(len(rows) for rows in document["tables"].values())
        events = len(document["events"])
        err_console.print(f"wrote {out}: {tables} rows in {len(document['tables'])} tables, {events} events")

    @group.command("erase")
    def erase_command(
        tenant: str = TENANT,
        subject: str = SUBJECT,
        yes: bool = YES,
        as_json: bool = JSON,
    ) -> None:
        """Erase a subject: destroy their data key, delete their rows and events, close them. Irreversible."""
        if not yes and not typer.confirm(f"Erase subject {subject} of tenant {tenant}? This cannot be undone"):
            raise typer.Exit(1)
        with _context(tenant) as ctx:
            report = erase(
                ctx.engine,
                tenant_id=ctx.tenant_id,
                subject_id=subject,
                vault=ctx.vault,
                audit=ctx.audit,
                actor=CLI,
                requested_by=RequestedBy.CLI,
            )
        if as_json:
            sys.stdout.write(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")
            return
        console.print(
            f"erased at {report.erased_at.isoformat()}: {report.rows_deleted} rows "
            f"(incl. {report.keys_deleted} data keys) and {report.events_deleted} events deleted"
        )
