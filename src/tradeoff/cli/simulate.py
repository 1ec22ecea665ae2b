"""``tradeoff simulate``: being built."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="simulate")


def register(root: typer.Typer) -> None:
    """Add this module's commands to the root app."""
