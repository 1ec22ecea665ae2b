"""``tradeoff privacy …``: keys and erasure (vault), data-subject export and erasure, the audit chain,
retention and the breach drill."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tradeoff.cli.common import console, engine_scope, print_json, settings
from tradeoff.core.clock import utcnow
from tradeoff.platform.db.registry import all_metadata
from tradeoff.privacy import breach
from tradeoff.privacy.audit import AuditTrail
from tradeoff.privacy.audit import cli as audit_cli
from tradeoff.privacy.dsr import cli as dsr_cli
from tradeoff.privacy.dsr.lapsed import DEFAULT_GRACE_DAYS, erase_lapsed
from tradeoff.privacy.retention import apply_retention
from tradeoff.privacy.vault import cli as vault_cli
from tradeoff.privacy.vault.config import build_key_provider, build_vault

app = typer.Typer(
    no_args_is_help=True, help="Privacy: keys, data-subject export/erasure, audit chain, retention, breach drill"
)
app.add_typer(vault_cli.app)
audit_cli.register(app)
dsr_cli.register(app)


@app.command("retention")
def retention(
    subject_grace_days: int = typer.Option(
        DEFAULT_GRACE_DAYS, min=0, help="erase shoppers with no consent in force for this many days"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Delete or clear everything past the retention period its column declares, and erase shoppers whose
    consent has been out of force for the grace period (audited like any erasure)."""
    config = settings()
    now = utcnow()
    with engine_scope() as engine:
        affected = apply_retention(engine, all_metadata(), now=now)
        keys = build_key_provider(config)
        vault = build_vault(config, engine, provider=keys)
        audit = AuditTrail.from_settings(config, keys=keys)
        affected["subjects erased (consent lapsed)"] = erase_lapsed(
            engine, vault=vault, audit=audit, now=now, grace_days=subject_grace_days
        )
    if as_json:
        print_json(affected)
        return
    table = Table("rule", "rows")
    for rule, rows in affected.items():
        table.add_row(rule, str(rows))
    console.print(table)


@app.command("breach-drill")
def breach_drill(
    logs: list[Path] = typer.Option(None, help="log files or folders (default: var/log)"),
    backups: list[Path] = typer.Option(None, help="backup files or folders (default: var/backups)"),
    planted: Path = typer.Option(None, help="values the simulator planted (default: var/sim/planted.json)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Dump the database, logs and backups and scan them for card numbers, e-mails, phones, MACs,
    secrets and planted identifiers; exit 1 when anything is found."""
    config = settings()
    artifacts = breach.database_dump(config.database_url)
    artifacts += breach.files_under(logs or [config.var_dir / "log"])
    artifacts += breach.files_under(backups or [config.var_dir / "backups"])
    report = breach.scan(artifacts, breach.load_planted(planted or config.var_dir / "sim" / "planted.json"))
    if as_json:
        print_json(report.to_json())
    else:
        table = Table("found", "count")
        for kind, count in report.counts.items():
            table.add_row(kind, f"[red]{count}[/red]" if count else "0")
        console.print(table)
        console.print(
            f"scanned {len(report.artifacts)} artifacts: " + ("clean" if report.clean else "[red]LEAKS[/red]")
        )
    if not report.clean:
        raise typer.Exit(1)
