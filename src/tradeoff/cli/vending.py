"""``tradeoff vending …``: DEX audits, the fleet, fills and dispatch plans (each area in its own module)."""

from __future__ import annotations

import typer

from tradeoff.cli import vending_dex, vending_fleet, vending_forecast, vending_plan

app = typer.Typer(no_args_is_help=True, help="Vending: DEX audits, fleet, fills, dispatch plans")
for module in (vending_dex, vending_fleet, vending_forecast, vending_plan):
    module.register(app)
