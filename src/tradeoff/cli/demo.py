"""``tradeoff demo``: migrate, seed the demo tenants, serve the platform and feed it with the simulators.

Two tenants: the grocer ``demo`` (store + two machines) and the vending operator ``demo-vending`` (a fleet
whose machines send DEX audits and whose drivers follow the dispatched plans, ``tradeoff.vending.sim``).
Everything runs on ONE clock: the simulators' ``SimClock`` is also the platform's (``clock=`` and
``use_clock``), so at ``--speed 120`` the platform plans, validates and stores in simulated time too.

The server runs in a thread and each simulator in another; the main thread only waits for Ctrl-C (or
SIGTERM) and then stops the simulators first, the server second, so no event is cut off mid-request.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

import typer
import uvicorn
from rich.panel import Panel
from rich.table import Table

from tradeoff.cli.common import console, err_console, settings, transaction
from tradeoff.core.clock import use_clock
from tradeoff.platform.db import migrate as migrations
from tradeoff.platform.logging import configure_logging
from tradeoff.platform.settings import Settings
from tradeoff.server import create_server_app
from tradeoff.sim.clock import SimClock
from tradeoff.sim.runner import Simulator
from tradeoff.sim.seed import Credentials, seed_world
from tradeoff.sim.session import SimOptions, build_simulator
from tradeoff.sim.transports import wait_until_ready
from tradeoff.sim.world import World, demo_world
from tradeoff.vending.sim import build_fleet_simulator
from tradeoff.vending.sim_fleet import FleetSpec, fleet_spec
from tradeoff.vending.sim_seed import FleetSeed, MachineResume, seed_fleet, stock_new_machines

log = logging.getLogger(__name__)


def register(root: typer.Typer) -> None:
    """Add ``demo`` to the root app."""
    root.command("demo")(demo)


def demo(
    port: int | None = typer.Option(None, help="defaults to TRADEOFF_PORT (8000)"),
    host: str | None = typer.Option(None, help="defaults to TRADEOFF_HOST (127.0.0.1)"),
    speed: float = typer.Option(1.0, min=0.001, help="simulated seconds per real second"),
    seed: int | None = typer.Option(None, help="simulator random seed"),
    no_simulator: bool = typer.Option(False, "--no-simulator", help="serve only; no simulated devices"),
) -> None:
    """Run the whole platform locally with a seeded demo tenant and simulated devices."""
    config = settings()
    config = config.model_copy(update={"port": port or config.port, "host": host or config.host})
    configure_logging(config.log_level, config.var_dir / "log")
    migrations.upgrade(config.database_url)
    world, spec = demo_world(), fleet_spec()
    with transaction(config.database_url) as conn:
        credentials = seed_world(conn, world)
        fleet = seed_fleet(conn, spec)
    # One clock for platform and simulators; a fleet that ran ahead (an earlier accelerated demo) resumes there.
    resume = fleet.resume_at
    start = max(datetime.now(UTC), resume + timedelta(minutes=1) if resume else datetime.now(UTC))
    clock = SimClock(start=start, speed=speed)
    use_clock(clock)
    with transaction(config.database_url) as conn:
        fleet = _with_opening_stock(fleet, stock_new_machines(conn, spec, fleet, at=clock.start))
    local_host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    base_url = f"http://{local_host}:{config.port}"

    server = uvicorn.Server(
        uvicorn.Config(
            create_server_app(config, clock=clock),
            host=config.host,
            port=config.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    )
    stop = threading.Event()
    _on_signals(stop)
    server_thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    server_thread.start()
    if not _wait_started(server, server_thread):
        err_console.print(f"[red]error:[/red] the server did not start on {config.host}:{config.port}")
        raise typer.Exit(1)
    wait_until_ready(base_url, timeout=10, path="/healthz")
    if config.mqtt_url and not wait_until_ready(base_url, timeout=10):
        log.warning("the platform is not ready yet: is the MQTT broker at TRADEOFF_MQTT_URL reachable?")

    simulator = None if no_simulator else _simulator(world, credentials, base_url, config, clock, seed)
    fleet_sim = None if no_simulator else _fleet_simulator(spec, fleet, base_url, config, clock, seed)
    threads = [
        threading.Thread(target=sim.run, name=name, daemon=True)
        for name, sim in (("simulator", simulator), ("vending-fleet", fleet_sim))
        if sim is not None
    ]
    for thread in threads:
        thread.start()
    console.print(_banner(base_url, credentials, world, simulator))
    console.print(_fleet_banner(base_url, fleet, spec, fleet_sim))
    console.print(
        f'try: curl -H "Authorization: Bearer {credentials.admin_key}" "{base_url}/v1/events?limit=5"',
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    try:
        while not stop.wait(0.5) and server_thread.is_alive():
            pass
    finally:
        console.print("stopping…")
        sims = [sim for sim in (simulator, fleet_sim) if sim is not None]
        for sim in sims:
            sim.stop()
        for thread in threads:
            thread.join(timeout=15)
        for sim in sims:
            sim.close()
        if simulator is not None:
            console.print(f"the simulator sent {simulator.summary()['events']} events")
        if fleet_sim is not None:
            console.print(_fleet_line(fleet_sim.summary()))
        server.should_exit = True
        server_thread.join(timeout=15)
        use_clock(None)


def _on_signals(stop: threading.Event) -> None:
    def handle(_signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # a second Ctrl-C: stop waiting
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _wait_started(server: uvicorn.Server, thread: threading.Thread, timeout: float = 30.0) -> bool:
    waited = 0.0
    while not server.started:
        if not thread.is_alive() or waited >= timeout:
            return False
        thread.join(0.05)
        waited += 0.05
    return True


def _simulator(
    world: World, credentials: Credentials, base_url: str, config: Settings, clock: SimClock, seed: int | None
) -> Simulator:
    options = SimOptions(speed=clock.speed, seed=seed, start=clock.start, topic_prefix=config.mqtt_topic_prefix)
    try:
        mqtt_url = config.mqtt_url or None
        simulator = build_simulator(world, credentials, base_url=base_url, mqtt_url=mqtt_url, options=options)
    except (ConnectionError, OSError) as exc:
        log.warning("MQTT unavailable (%s); simulating over HTTP only", exc)
        simulator = build_simulator(world, credentials, base_url=base_url, options=options)
    simulator.clock = clock  # the very clock the platform runs on (same start and speed, same origin)
    return simulator


def _with_opening_stock(fleet: FleetSeed, opened: dict[str, MachineResume]) -> FleetSeed:
    return replace(fleet, resume={**fleet.resume, **opened})


def _fleet_simulator(
    spec: FleetSpec, fleet: FleetSeed, base_url: str, config: Settings, clock: SimClock, seed: int | None
) -> Simulator:
    """The operator's machines publish DEX over MQTT when the platform listens there, else over HTTP."""

    def build(mqtt_url: str | None) -> Simulator:
        return build_fleet_simulator(
            spec, fleet, clock=clock, base_url=base_url, mqtt_url=mqtt_url,
            topic_prefix=config.mqtt_topic_prefix, random_seed=seed or 0,
        )  # fmt: skip

    try:
        return build(config.mqtt_url or None)
    except (ConnectionError, OSError) as exc:
        log.warning("MQTT unavailable (%s); the vending fleet sends over HTTP only", exc)
        return build(None)


def _fleet_line(summary: dict[str, Any]) -> str:
    fleet = summary.get("fleet", {})
    drivers = fleet.get("drivers", {})
    return (
        f"the vending fleet sent {summary['events']} events; sold {fleet.get('sold', 0)} units, "
        f"lost {fleet.get('lost', 0)} to empty columns; drivers served {drivers.get('stops_served', 0)} stops "
        f"({fleet.get('filled', 0)} units) and completed {drivers.get('plans_completed', 0)} plans"
    )


def _fleet_banner(base_url: str, fleet: FleetSeed, spec: FleetSpec, simulator: Simulator | None) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Vending page", f"{base_url}/vending")
    creds = fleet.credentials
    if creds.username:
        grid.add_row("Login", f"{creds.username} / {creds.password}   [dim](local demo only)[/dim]")
    grid.add_row("Admin API key", creds.admin_key or "")
    grid.add_row(
        "Fleet",
        f"{creds.tenant_slug}: {len(spec.machines)} machines, 1 depot, {len(spec.trucks)} trucks, "
        f"{len(spec.products)} products",
    )
    if simulator is None:
        grid.add_row("Simulator", "off")
    else:
        transport = simulator.transport_for(spec.machines[0].device).upper()
        grid.add_row(
            "Simulator",
            f"DEX every ~4 simulated hours over {transport}; drivers follow the dispatched plans · "
            f"{simulator.clock.speed:g}× (try --speed 120 to watch a day in 12 minutes)",
        )
    grid.add_row("Plans", f'curl -H "Authorization: Bearer {creds.admin_key}" "{base_url}/v1/vending/plans"')
    return Panel(grid, title="Vending operator", border_style="cyan", expand=False)


def _banner(base_url: str, credentials: Credentials, world: World, simulator: Simulator | None) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Dashboard", f"{base_url}/")
    if credentials.username:
        grid.add_row("Login", f"{credentials.username} / {credentials.password}   [dim](local demo only)[/dim]")
    else:
        grid.add_row("Login", "[yellow]user 'demo' exists with another password[/yellow]")
    grid.add_row("Admin API key", credentials.admin_key or "")
    grid.add_row("API docs", f"{base_url}/docs")
    grid.add_row("Tenant", f"{credentials.tenant_slug} ({len(world.devices)} devices, {len(world.sites)} sites)")
    if simulator is None:
        grid.add_row("Simulator", "off")
    else:
        by_transport: dict[str, int] = {}
        for device in world.devices:
            transport = simulator.transport_for(device.external_id)
            by_transport[transport] = by_transport.get(transport, 0) + 1
        split = ", ".join(f"{n} over {name.upper()}" for name, n in sorted(by_transport.items()))
        grid.add_row("Simulator", f"{split} · {simulator.clock.speed:g}× real time")
    return Panel(grid, title="Tradeoff demo is running — Ctrl-C to stop", border_style="green", expand=False)
