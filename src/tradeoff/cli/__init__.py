"""The ``tradeoff`` command: ``tradeoff <area> <verb>``, ``--json`` for machine-readable output."""

from __future__ import annotations

import typer

from tradeoff.cli import admin, bench, coupons, demo, events, presence, privacy, serve, simulate, vending

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Tradeoff IoT platform")
serve.register(app)
demo.register(app)
simulate.register(app)
app.add_typer(admin.tenants_app, name="tenants")
app.add_typer(admin.keys_app, name="keys")
app.add_typer(admin.users_app, name="users")
app.add_typer(events.app, name="events")
app.add_typer(bench.app, name="bench")
app.add_typer(privacy.app, name="privacy")
app.add_typer(vending.app, name="vending")
app.add_typer(presence.app, name="presence")
app.add_typer(coupons.app, name="coupons")


def main() -> None:
    app()
