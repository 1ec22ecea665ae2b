"""The vending loop end to end: simulated machines send DEX over the real Mosquitto, the platform's own
dispatcher produces a plan with nobody asking, and each pick is par minus the forecast stock at the ETA.

One process, one clock (as ``tradeoff demo``): the platform is built on the simulator's accelerated
``SimClock`` and ``use_clock`` makes ``utcnow()`` read it, so audits, fills and plans all live in sim time.

What is compared, per stop and planogram column (case policy ``unit``, the dispatcher's default):

    seen      = latest of the column's level, audit and sensor times (stock view, dispatcher's transaction)
    on_hand   = max(0, stock-view on-hand − F(history, seen).demand_until(now))      if seen < now
    at_eta    = max(0, on_hand − (F(history, now).demand_until(eta) − F(history, now).demand_until(now)))
    expected  = min(round_half_up(par − at_eta), ⌊capacity − at_eta⌋), or 1 if that is 0 and at_eta ≤ threshold

``F`` is the forecaster the dispatcher used for that plan (recorded by wrapping its ``forecasts`` source,
together with the stock view read in the same transaction the plan request is built from); ``now`` is the
plan's ``created_at``. Capacity trimming (HiGHS) would cut picks on purpose; it cannot happen here: 12
machines of 6 columns hold at most ~1,700 units, the two vans carry 1,200 and a plan serves only a few machines.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Connection

from tests.support.mqtt import forget_session
from tests.support.services import MQTT_HOST, MQTT_PORT, free_port, need
from tradeoff.core.clock import use_clock
from tradeoff.platform.db.engine import make_engine, write_transaction
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.settings import Settings
from tradeoff.server import create_server_app
from tradeoff.sim.clock import SimClock
from tradeoff.vending import fleet, views
from tradeoff.vending.dispatch import fleet_forecaster
from tradeoff.vending.plan_request import Forecaster, daily_history
from tradeoff.vending.projections import load_columns
from tradeoff.vending.sim import build_fleet_simulator, fleet_generator
from tradeoff.vending.sim_fleet import fleet_spec
from tradeoff.vending.sim_seed import seed_fleet, stock_new_machines

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

START = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # a Monday night, in the past: nothing is "in the future"
SPEED = 7200.0  # two simulated hours per real second: three days of audits in ~40 s
History = list[tuple[date, int]]


@dataclass
class ColumnSnap:
    on_hand: int | None
    seen: datetime | None
    par: int
    capacity: int
    threshold: int
    history: History


@dataclass
class Snapshot:
    forecaster: Forecaster
    machines: dict[str, dict[str, ColumnSnap]]


@dataclass
class Recorder:
    """The dispatcher's forecast source, recording what each planning run saw (keyed by its ``now``)."""

    snapshots: dict[datetime, Snapshot] = field(default_factory=dict)

    def __call__(self, conn: Connection, tenant_id: str, now: datetime, depot_id: str | None) -> Forecaster:
        forecaster = fleet_forecaster(conn, tenant_id, now, depot_id)
        machines: dict[str, dict[str, ColumnSnap]] = {}
        for machine in fleet.list_machines(conn, tenant_id=tenant_id, depot_id=depot_id):
            rows = load_columns(conn, machine.id)
            history = daily_history(conn, tenant_id=tenant_id, machine_id=machine.id)
            snaps = {}
            for view in views.machine_stock(conn, tenant_id=tenant_id, machine_id=machine.id):
                if not view.in_planogram or view.par is None or view.capacity is None or view.threshold is None:
                    continue
                row = rows.get(view.selection)
                times = [] if row is None else [t for t in (row.level_at, row.counters_at, row.sensor_at) if t]
                snaps[view.selection] = ColumnSnap(
                    view.on_hand, max(times, default=None), view.par, view.capacity, view.threshold,
                    history.get(view.selection, []),
                )  # fmt: skip
            machines[machine.id] = snaps
        self.snapshots[now] = Snapshot(forecaster, machines)
        return forecaster


def expected_pick(snap: ColumnSnap, forecaster: Forecaster, now: datetime, eta: datetime) -> int:
    on_hand = float(snap.on_hand or 0)
    if snap.on_hand is not None and snap.seen is not None and snap.seen < now:
        on_hand = max(0.0, on_hand - forecaster(snap.history, snap.seen).demand_until(now))
    ahead = forecaster(snap.history, now)
    at_eta = max(0.0, on_hand - max(0.0, ahead.demand_until(eta) - ahead.demand_until(now)))
    room = math.floor(snap.capacity - at_eta + 1e-9)
    if room <= 0:
        return 0
    quantity = min(math.floor(max(0.0, snap.par - at_eta) + 0.5), room)
    return 1 if quantity == 0 and at_eta <= snap.threshold else quantity


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def one_clock() -> Iterator[SimClock]:
    clock = SimClock(start=START, speed=SPEED)
    use_clock(clock)
    try:
        yield clock
    finally:
        use_clock(None)


def test_machines_dex_over_mqtt_get_a_plan_whose_picks_are_par_minus_forecast(
    tmp_path: Path, one_clock: SimClock
) -> None:
    need("Mosquitto", MQTT_HOST, MQTT_PORT)
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'vending.db'}",
        var_dir=tmp_path / "var",
        mqtt_url=f"mqtt://{MQTT_HOST}:{MQTT_PORT}",
        mqtt_client_id=f"test-vending-ingest-{tag}",
        mqtt_topic_prefix=f"test{tag}",
        processor_poll_seconds=0.2,
        vending_plan_seconds=0.3,
        vending_call_poll_seconds=0.5,
    )
    upgrade(settings.database_url)
    spec = fleet_spec(machines=12, columns=6)
    engine = make_engine(settings.database_url)
    with write_transaction(engine) as conn:
        seed = seed_fleet(conn, spec)
        opened = stock_new_machines(conn, spec, seed, at=one_clock.start)
    engine.dispose()
    seed = replace(seed, resume={**seed.resume, **opened})

    app = create_server_app(settings, clock=one_clock)
    recorder = Recorder()
    app.state.platform.extensions["vending_dispatcher"].forecasts = recorder  # record, do not replace
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    server_thread = threading.Thread(target=server.run, daemon=True)
    server_thread.start()
    base_url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {seed.credentials.admin_key}"}
    simulator = None
    sim_thread = None
    try:
        wait_for(lambda: _ready(base_url), 30, "the platform (and its MQTT subscription)")
        simulator = build_fleet_simulator(
            spec, seed, clock=one_clock, base_url=base_url, mqtt_url=settings.mqtt_url,
            topic_prefix=settings.mqtt_topic_prefix, random_seed=3, mqtt_client_id=f"test-vending-sim-{tag}",
        )  # fmt: skip
        simulator.step_seconds = 0.25
        sim_thread = threading.Thread(target=simulator.run, daemon=True)
        sim_thread.start()
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
            # Wait for a plan made with a real forecast: ≥ 2 whole days of audited history (~3.5 sim days).
            def forecast_plans() -> list[dict[str, Any]]:
                plans = _plans_with_stops(client)
                return plans if any(_forecast_used(recorder, plan) for plan in plans) else []

            plans = wait_for(forecast_plans, 80, "a dispatched plan with stops, planned with a forecast")
            audits = client.get("/v1/events", params={"type": "vending.dex_audit", "limit": 500}).json()["events"]
            assert audits and {e["transport"] for e in audits} == {"mqtt"}
            assert all(plan["reason"] in ("scheduled", "called") for plan in plans)  # nobody asked for it

            compared = 0
            for plan in plans:
                now = datetime.fromisoformat(plan["created_at"])
                snapshot = recorder.snapshots[now]
                for truck in plan["trucks"]:
                    for stop in truck["stops"]:
                        eta = datetime.fromisoformat(stop["eta"])
                        got = {p["selection"]: p["quantity"] for p in stop["picks"]}
                        columns = snapshot.machines[stop["machine_id"]]
                        want = {
                            s: q for s, c in columns.items() if (q := expected_pick(c, snapshot.forecaster, now, eta))
                        }
                        assert got == want, f"plan {plan['id']} stop {stop['machine_id']} at {eta}"
                        compared += 1
            assert compared > 0
            print(f"compared {compared} stops of {len(plans)} plans; reasons {[p['reason'] for p in plans]}")

            # The loop closes: drivers fill at the ETAs and complete the plan.
            wait_for(lambda: fleet_generator(simulator).summary()["drivers"]["stops_served"] > 0, 45, "a served stop")
            served = fleet_generator(simulator).summary()
            assert served["filled"] > 0 and served["drivers"]["errors"] == 0
    finally:
        if simulator is not None:
            simulator.stop()
            if sim_thread is not None:
                sim_thread.join(timeout=15)
            simulator.close()
        server.should_exit = True
        server_thread.join(timeout=20)
        forget_session(MQTT_PORT, settings.mqtt_client_id)


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _forecast_used(recorder: Recorder, plan: dict[str, Any]) -> bool:
    """Whether some column of the plan's stops had a history and a positive forecast (not the empty fallback)."""
    now = datetime.fromisoformat(plan["created_at"])
    snapshot = recorder.snapshots.get(now)
    if snapshot is None:
        return False
    stops = {stop["machine_id"] for truck in plan["trucks"] for stop in truck["stops"]}
    return any(
        snap.history and snapshot.forecaster(snap.history, now).demand_until(now + timedelta(days=1)) > 0
        for machine in stops
        for snap in snapshot.machines.get(machine, {}).values()
    )


def _plans_with_stops(client: httpx.Client) -> list[dict[str, Any]]:
    plans = client.get("/v1/vending/plans", params={"limit": 50}).json()["plans"]
    return [p for p in plans if any(t["stops"] for t in p["trucks"])]
