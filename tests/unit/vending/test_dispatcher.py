"""The dispatcher on a FixedClock: the daily plan at the depot-local hour, safety replans, calls, a prompt stop."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.unit.vending.test_dispatch import source
from tradeoff.core.clock import FixedClock
from tradeoff.platform import tenancy
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.vending import fleet
from tradeoff.vending.dispatcher import VendingDispatcher, next_local_hour
from tradeoff.vending.fills import record_fill
from tradeoff.vending.plan_store import latest_plans
from tradeoff.vending.projections import open_alert

START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 03:00 in Berlin


@pytest.fixture
def fleet_db(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="vendco", name="VendCo", kind="vending_operator").id
        depot = fleet.create_depot(conn, tenant_id=tenant, name="North", lat=52.5, lon=13.4, timezone="Europe/Berlin")
        fleet.create_truck(conn, tenant_id=tenant, depot_id=depot.id, name="T1", capacity_units=500)
        fleet.create_product(conn, tenant_id=tenant, sku="cola", name="Cola")
        machine = fleet.create_machine(
            conn, tenant_id=tenant, name="Lobby", lat=52.52, lon=13.41, timezone="Europe/Berlin", depot_id=depot.id
        )
        spec = fleet.ColumnSpec(selection="10", product="cola", capacity=12, par=10)
        fleet.set_planogram(conn, tenant_id=tenant, machine_id=machine.id, columns=[spec])
        record_fill(conn, tenant_id=tenant, machine_id=machine.id, selection="10", to_par=True,
                    recorded_by="key:test", filled_at=START)  # fmt: skip
    yield engine, tenant, machine.id
    engine.dispose()


def _dispatcher(engine: Engine, clock: FixedClock, **kwargs: Any) -> VendingDispatcher:
    return VendingDispatcher(engine, clock, seconds=0.2, forecasts=source(0.0), **kwargs)


def test_next_local_hour_follows_the_depot_zone() -> None:
    assert next_local_hour(START, 5, "Europe/Berlin") == datetime(2026, 11, 23, 4, tzinfo=UTC)
    assert next_local_hour(datetime(2026, 11, 23, 4, tzinfo=UTC), 5, "Europe/Berlin") == datetime(
        2026, 11, 24, 4, tzinfo=UTC
    )
    assert next_local_hour(datetime(2026, 6, 1, 0, tzinfo=UTC), 5, "Europe/Berlin").hour == 3  # summer time


def test_daily_plan_at_the_local_hour_then_safety_replans(fleet_db: Any) -> None:
    engine, tenant, _ = fleet_db
    clock = FixedClock(START)
    dispatcher = _dispatcher(engine, clock, replan=timedelta(hours=6))
    assert dispatcher.check_schedule(clock.now()) == []  # first sight starts the depot's clock
    clock.advance(timedelta(hours=1, minutes=59))  # 04:59 Berlin
    assert dispatcher.check_schedule(clock.now()) == []
    clock.advance(timedelta(minutes=1))  # 05:00 Berlin
    (plan,) = dispatcher.check_schedule(clock.now())
    assert plan.status == "dispatched" and plan.plan.meta["reason"] == "scheduled"
    assert plan.plan.created_at == datetime(2026, 11, 23, 4, tzinfo=UTC)
    clock.advance(timedelta(hours=5, minutes=59))
    assert dispatcher.check_schedule(clock.now()) == []
    clock.advance(timedelta(minutes=1))  # six hours on: the safety replan
    assert len(dispatcher.check_schedule(clock.now())) == 1
    with engine.connect() as conn:
        assert len(latest_plans(conn, tenant_id=tenant)) == 2


def test_fixed_interval(fleet_db: Any) -> None:
    engine, _, _ = fleet_db
    clock = FixedClock(START)
    dispatcher = _dispatcher(engine, clock, interval=timedelta(minutes=30))
    dispatcher.check_schedule(clock.now())
    clock.advance(timedelta(minutes=30))
    assert len(dispatcher.check_schedule(clock.now())) == 1


def test_a_call_triggers_one_replan(fleet_db: Any) -> None:
    engine, tenant, machine = fleet_db
    clock = FixedClock(START)
    dispatcher = _dispatcher(engine, clock)
    assert dispatcher.check_calls(clock.now()) == []  # full machine: nobody calls
    clock.advance(timedelta(minutes=10))
    with engine.begin() as conn:
        open_alert(conn, tenant_id=tenant, machine_id=machine, kind="fault", ref="J1", message="jam", at=clock.now())
    (plan,) = dispatcher.check_calls(clock.now())
    assert plan.plan.meta["reason"] == "called"
    assert [s.machine_id for t in plan.plan.trucks for s in t.stops] == [machine]
    assert plan.plan.trucks[0].stops[0].reason == "called"
    assert dispatcher.check_calls(clock.now()) == []  # covered now: no second replan


def test_the_thread_plans_on_the_clock_and_stops_promptly(fleet_db: Any) -> None:
    engine, tenant, machine = fleet_db
    clock = FixedClock(START)
    with engine.begin() as conn:
        open_alert(conn, tenant_id=tenant, machine_id=machine, kind="sold_out", ref="10", message="empty", at=START)
    dispatcher = _dispatcher(engine, clock, poll=0.05, tick=0.05)
    dispatcher.start()
    try:
        assert dispatcher.connected
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if latest_plans(conn, tenant_id=tenant, status="dispatched"):
                    break
            time.sleep(0.05)
        else:
            pytest.fail("no plan was made for the calling machine")
    finally:
        began = time.monotonic()
        dispatcher.stop()
        assert time.monotonic() - began < 2.0
    assert not dispatcher.connected
