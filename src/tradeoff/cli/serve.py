"""``tradeoff serve`` and ``tradeoff migrate``."""

from __future__ import annotations

import signal
import threading

import typer
import uvicorn

from tradeoff.cli.common import console, settings
from tradeoff.platform.container import build_platform
from tradeoff.platform.db import migrate as migrations
from tradeoff.platform.logging import configure_logging


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.command("migrate")(migrate)


def migrate(
    database_url: str = typer.Option(None, help="defaults to TRADEOFF_DATABASE_URL"),
    app_role: str = typer.Option(
        None, help="PostgreSQL: grant this existing login role table access under row-level security"
    ),
) -> None:
    """Apply database migrations (the same on SQLite and PostgreSQL; PostgreSQL also gets forced RLS)."""
    url = database_url or settings().database_url
    migrations.upgrade(url, app_role=app_role)
    console.print(f"[green]database at head[/green] ({_redact(url)})")


def serve(
    host: str = typer.Option(None, help="defaults to TRADEOFF_HOST"),
    port: int = typer.Option(None, help="defaults to TRADEOFF_PORT"),
) -> None:
    """Run the API, dashboard, processors and (when TRADEOFF_MQTT_URL is set) the MQTT transport."""
    config = settings()
    configure_logging(config.log_level, config.var_dir / "log")
    uvicorn.run(
        "tradeoff.server:app_from_env",
        factory=True,
        host=host or config.host,
        port=port or config.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def worker(
    poll_seconds: float = typer.Option(0.2, help="how often to look for newly committed events"),
) -> None:
    """Apply committed events with the processors only (no HTTP, no MQTT). Run several beside
    `tradeoff serve` started with TRADEOFF_RUN_PROCESSORS=false; they share the work through the database."""
    config = settings().model_copy(
        update={"run_processors": True, "mqtt_url": "", "processor_poll_seconds": poll_seconds}
    )
    configure_logging(config.log_level, config.var_dir / "log")
    platform = build_platform(config)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    platform.start()
    console.print(f"worker running {len(platform.bus.runners)} processors; Ctrl-C stops")
    stop.wait()
    platform.close()
