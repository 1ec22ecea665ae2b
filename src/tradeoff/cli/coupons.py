"""``tradeoff coupons …`` commands."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="Coupons: codes, QR and GS1 element strings")
