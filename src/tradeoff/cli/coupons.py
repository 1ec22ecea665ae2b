"""``tradeoff coupons …`` commands: check GS1 coupon element strings, draw a coupon's QR code."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.table import Table

from tradeoff.cli.common import console, err_console, print_json
from tradeoff.core.errors import InvalidInput
from tradeoff.offers.coupons.gs1 import check_element_string
from tradeoff.offers.coupons.qr import MEDIA_TYPES, qr_bytes, qr_symbol

app = typer.Typer(no_args_is_help=True, help="Coupons: codes, QR and GS1 element strings")


def _fail(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", soft_wrap=True, highlight=False)
    raise typer.Exit(1)


@app.command("check-gs1")
def check_gs1(
    element_string: str = typer.Argument(..., metavar="STRING", help="e.g. '(8112)0012345…' or '(8110)…'"),
    ai: str = typer.Option("", help="the AI when STRING is a bare value without '(8110)'/'(8112)'"),
    as_json: bool = typer.Option(False, "--json", help='print {"valid", "reason", …} as JSON'),
) -> None:
    """Validate a GS1 coupon element string (AI 8110 or 8112) and decode its fields; exit 1 when invalid."""
    result = check_element_string(element_string, ai=ai or None)
    if as_json:
        print_json(result.to_json())
    elif result.valid:
        table = Table(title=f"AI ({result.ai}) valid", show_header=False)
        for name, value in result.fields.items():
            table.add_row(name, value)
        console.print(table)
    else:
        err_console.print(f"[red]invalid:[/red] {result.reason} [dim]({result.error})[/dim]", highlight=False)
    if not result.valid:
        raise typer.Exit(1)


@app.command("qr")
def qr(
    text: str = typer.Argument(..., help="the coupon code or URL to encode"),
    out: Path = typer.Option(..., help="image file to write: .svg or .png"),
    scale: int = typer.Option(8, help="pixels per module"),
    border: int = typer.Option(4, help="quiet zone in modules"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Write the QR code of a coupon code or link as SVG or PNG."""
    kind = out.suffix.lower().lstrip(".")
    if kind not in MEDIA_TYPES:
        _fail(f"--out must end in .svg or .png, got {out.name!r}")
    try:
        symbol = qr_symbol(text)
        data = qr_bytes(text, kind="svg" if kind == "svg" else "png", scale=scale, border=border)
        out.write_bytes(data)
    except InvalidInput as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"{out}: {exc.strerror or exc}")
    summary = {
        "out": str(out),
        "media_type": MEDIA_TYPES[kind],
        "bytes": len(data),
        "version": symbol.version,
        "error": symbol.error,
        "mode": symbol.mode,
        "modules": len(symbol.matrix),
    }
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"wrote {out} ({summary['media_type']}, {len(data)} bytes): QR version {symbol.version}, "
            f"error level {symbol.error}, {symbol.mode} mode, {summary['modules']}×{summary['modules']} modules",
            highlight=False,
        )
