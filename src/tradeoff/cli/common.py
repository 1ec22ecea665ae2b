"""Shared CLI plumbing: settings, engine, JSON output, error reporting."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import typer
from rich.console import Console
from sqlalchemy import Connection, Engine

from tradeoff.core.errors import TradeoffError
from tradeoff.platform.db.engine import make_engine, write_transaction
from tradeoff.platform.settings import Settings

console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    return Settings()


@contextmanager
def engine_scope(url: str | None = None) -> Iterator[Engine]:
    engine = make_engine(url or settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def transaction(url: str | None = None) -> Iterator[Connection]:
    """A committed transaction; domain errors become a one-line message and exit code 1."""
    try:
        with engine_scope(url) as engine, write_transaction(engine) as conn:
            yield conn
    except TradeoffError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")
