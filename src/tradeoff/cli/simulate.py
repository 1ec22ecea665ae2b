"""``tradeoff simulate``: feed a running platform with the demo world's devices over HTTP (and MQTT).

With ``--api-key`` (an admin key) the world's sites, devices and per-run device keys are created through
the HTTP API, and the keys are revoked when the run ends. Without it, the world is seeded straight into
the configured database (``TRADEOFF_DATABASE_URL``), as ``tradeoff demo`` does, and a fresh admin key
is printed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import typer
from rich.live import Live
from rich.table import Table

from tradeoff.cli.common import console, err_console, print_json, settings, transaction
from tradeoff.platform.logging import configure_logging
from tradeoff.sim.clock import parse_start
from tradeoff.sim.generators import GENERATORS
from tradeoff.sim.probe import PROBE, attach_probe
from tradeoff.sim.provision import ApiError, Provisioned, provision_via_api, revoke_keys
from tradeoff.sim.runner import Simulator
from tradeoff.sim.seed import Credentials, seed_world
from tradeoff.sim.session import SimOptions, build_simulator, http_devices
from tradeoff.sim.world import World, demo_world


def register(root: typer.Typer) -> None:
    """Add ``simulate`` to the root app."""
    root.command("simulate")(simulate)


def simulate(
    url: str = typer.Option("http://127.0.0.1:8000", help="base URL of the running platform"),
    tenant: str | None = typer.Option(
        None, help="tenant slug; with --api-key it must be the key's tenant (default: the key's, else 'demo')"
    ),
    api_key: str | None = typer.Option(
        None, envvar="TRADEOFF_API_KEY", help="admin API key; omit to seed the local database directly"
    ),
    mqtt_url: str | None = typer.Option(None, help="mqtt://host:1883 — then half the devices publish over MQTT"),
    topic_prefix: str | None = typer.Option(None, help="MQTT topic prefix (default: TRADEOFF_MQTT_TOPIC_PREFIX)"),
    speed: float = typer.Option(1.0, min=0.001, help="simulated seconds per real second (60: a minute a second)"),
    duration: float | None = typer.Option(None, min=0, help="real seconds to run (default: until Ctrl-C)"),
    seed: int | None = typer.Option(None, help="random seed: the same seed and --start reproduce a run"),
    start: str | None = typer.Option(None, help="simulated start instant, ISO-8601 with zone (default: now)"),
    step: float = typer.Option(1.0, min=0.05, help="real seconds between simulation steps"),
    generator: list[str] | None = typer.Option(
        None, "--generator", "-g", help=f"generators to run (default: all of {', '.join(GENERATORS)})"
    ),
    as_json: bool = typer.Option(False, "--json", help="print only a JSON summary at the end"),
) -> None:
    """Simulate the demo store and vending machines: heartbeats and telemetry through the real transports."""
    config = settings()
    configure_logging("WARNING")
    try:
        begin = parse_start(start)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from None
    options = SimOptions(
        speed=speed,
        seed=seed,
        start=begin,
        step_seconds=step,
        generators=tuple(generator) if generator else None,
        topic_prefix=topic_prefix or config.mqtt_topic_prefix,
    )
    with _prepared(url, api_key, tenant, mqtt=bool(mqtt_url)) as (world, credentials):
        if credentials.admin_key and not api_key and not as_json:
            console.print(f"tenant [bold]{credentials.tenant_slug}[/bold] seeded; admin API key (shown once):")
            console.print(credentials.admin_key, markup=False, highlight=False)
            if credentials.username:
                console.print(f"dashboard login (local demo only): {credentials.username} / {credentials.password}")
        try:
            simulator = build_simulator(world, credentials, base_url=url, mqtt_url=mqtt_url or None, options=options)
        except (ConnectionError, OSError, ValueError) as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        # The privacy probe plants card numbers and identifiers: only when asked for by name.
        planted = config.var_dir / "sim" / "planted.json"
        probe = None
        if generator and PROBE in generator:
            probe = attach_probe(
                simulator, credentials, base_url=url, planted_path=planted, mqtt_url=mqtt_url or None,
                topic_prefix=options.topic_prefix,
            )  # fmt: skip
        try:
            if as_json or not console.is_terminal:
                simulator.run(duration)
            else:
                with Live(_table(simulator), console=console, refresh_per_second=4, transient=True) as live:
                    simulator.on_step = lambda sim: live.update(_table(sim))
                    simulator.run(duration)
        finally:
            simulator.close()  # waits for outstanding MQTT acknowledgements, so they count below
            if probe is not None:
                probe.close()
    probed = {"privacy_probe": probe.summary() | {"planted_file": str(planted)}} if probe else {}
    if as_json:
        seeded = {"admin_key": credentials.admin_key} if credentials.admin_key and not api_key else {}
        print_json(simulator.summary() | seeded | probed)
    else:
        console.print(_table(simulator))
        if probe is not None:
            console.print(f"privacy probe: {probe.summary()['stats']}; planted values in {planted}")
    unrouted = sum(sender.stats.unrouted for sender in simulator.senders.values())
    if unrouted:
        err_console.print(
            f"[yellow]warning:[/yellow] the broker had no subscriber for {unrouted} MQTT messages; "
            "is the platform running with TRADEOFF_MQTT_URL (and the same topic prefix)?"
        )


@contextmanager
def _prepared(url: str, api_key: str | None, tenant: str | None, *, mqtt: bool) -> Iterator[tuple[World, Credentials]]:
    world = demo_world(tenant or "demo")
    wanted = http_devices(world, mqtt=mqtt)
    if not api_key:
        with transaction() as conn:
            credentials = seed_world(conn, world, device_keys=wanted)
        yield world, credentials
        return
    with httpx.Client(base_url=url, timeout=30) as client:
        try:
            provisioned: Provisioned = provision_via_api(
                client, world, admin_key=api_key, tenant=tenant, key_devices=wanted, run_tag=secrets.token_hex(3)
            )
        except (ApiError, httpx.HTTPError) as exc:
            err_console.print(f"[red]error:[/red] cannot prepare the platform at {url}: {exc}")
            raise typer.Exit(1) from None
        try:
            yield provisioned.world, provisioned.credentials
        finally:
            try:
                revoke_keys(client, admin_key=api_key, key_ids=provisioned.key_ids)
            except (ApiError, httpx.HTTPError) as exc:
                logging.getLogger(__name__).warning("could not revoke this run's device keys: %s", exc)


def _table(sim: Simulator) -> Table:
    summary = sim.summary()
    title = f"simulated {summary['sim_now']} · {summary['speed']:g}× · {summary['events']} events"
    table = Table("transport", "event type", "sent", title=title, title_justify="left")
    for transport, types in summary["sent"].items():
        for type_, count in types.items():
            table.add_row(transport, type_, str(count))
    for transport, stats in summary["delivery"].items():
        table.add_row(
            transport,
            "[dim]delivery[/dim]",
            f"delivered {stats['delivered']} · dup {stats['duplicates']} · "
            f"rejected {stats['rejected']} · failed {stats['failed']}",
        )
    return table
