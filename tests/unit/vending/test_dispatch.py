"""run_dispatch and calling_machines on SQLite: a small fleet, fills and DEX audits through the stock processor."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from tradeoff.platform import tenancy
from tradeoff.platform.bus import ProcessorRunner
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline
from tradeoff.vending import fleet
from tradeoff.vending.dispatch import HistoryLookup, calling_machines, run_dispatch
from tradeoff.vending.fills import record_fill
from tradeoff.vending.forecast.model import ColumnForecast
from tradeoff.vending.payloads import PayloadGate
from tradeoff.vending.plan_request import Forecaster, build_plan_request
from tradeoff.vending.plan_store import latest_plans, load_plan
from tradeoff.vending.planning.picks import column_pick
from tradeoff.vending.planning.urgency import on_hand_at
from tradeoff.vending.projections import open_alert
from tradeoff.vending.stock_processor import VendingStockProcessor

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # Monday 05:00 in Berlin; the shift is 06:00-14:00
SECONDS = 0.2
_ids = itertools.count()


def steady(rate: float) -> Forecaster:
    def forecast(history: Sequence[tuple[date, int]], origin: datetime) -> ColumnForecast:
        return ColumnForecast(origin=origin, daily_mean=(rate,), daily_var=(rate,), model="steady")

    return forecast


def source(rate: float) -> Any:
    return lambda conn, tenant_id, now, depot_id: steady(rate)


@dataclass
class World:
    engine: Engine
    tenant: str
    depot: str
    truck: str
    low: str  # at its threshold: due
    full: str  # filled to par: not due
    loose: str  # no depot: never planned, never calls

    def conn(self) -> Any:
        return self.engine.begin()


def _audit(
    pipeline: IngestPipeline, runner: ProcessorRunner, tenant: str, serial: str, at: datetime, vends: int
) -> None:
    columns = [{"selection": "10", "product": "P10", "price": 150, "vends_total": vends, "value_total": vends * 150,
                "vends_since_reset": None, "value_since_reset": None, "test_vends": 0, "free_vends": 0}]  # fmt: skip
    payload = {
        "machine": {"serial": serial, "model": "M", "asset": None},
        "read_at": at.isoformat(),
        "currency": "EUR",
        "decimals": 2,
        "totals": {"vends": vends, "value": vends * 150},
        "columns": columns,
        "checksum": {"present": True, "valid": True, "variant": "incl"},
        "truncated": False,
        "warnings": [],
        "sha256": f"{next(_ids):064x}",
    }
    event = {"event_id": f"ev-{next(_ids)}", "type": "vending.dex_audit", "occurred_at": at.isoformat()}
    body = orjson.dumps({"events": [{**event, "source": "handheld", "payload": payload}]})
    message = RawMessage(body=body, transport="http", tenant_id=tenant, received_at=at)
    report = pipeline.ingest(message, decoder="json-batch")
    assert report.count("accepted") == 1, report
    while runner.run_once():
        pass


@pytest.fixture
def world(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="vendco", name="VendCo", kind="vending_operator").id
        tenancy.create_device(conn, tenant_id=tenant, external_id="handheld", kind="vending_machine")
        depot = fleet.create_depot(conn, tenant_id=tenant, name="North", lat=52.5, lon=13.4, timezone="Europe/Berlin")
        truck = fleet.create_truck(
            conn, tenant_id=tenant, depot_id=depot.id, name="T1", capacity_units=500, shift_start="06:00",
            shift_end="14:00",
        )  # fmt: skip
        fleet.create_product(conn, tenant_id=tenant, sku="cola", name="Cola", case_size=24)
        ids = {}
        for name, lat, depot_id in (("Low", 52.52, depot.id), ("Full", 52.51, depot.id), ("Loose", 52.53, None)):
            machine = fleet.create_machine(
                conn, tenant_id=tenant, name=name, lat=lat, lon=13.41, timezone="Europe/Berlin", depot_id=depot_id,
                dex_serial=f"SN-{name}",
            )  # fmt: skip
            spec = fleet.ColumnSpec(selection="10", product="cola", capacity=12, par=10, threshold_pct=30)
            fleet.set_planogram(conn, tenant_id=tenant, machine_id=machine.id, columns=[spec])
            ids[name] = machine.id
    pipeline = IngestPipeline(engine=engine, decoders=default_registry(1000))
    pipeline.add_gate(PayloadGate())
    runner = ProcessorRunner(engine, VendingStockProcessor())
    start = NOW - timedelta(days=3)
    for name in ids:
        _audit(pipeline, runner, tenant, f"SN-{name}", start, 100)  # baseline meters
        with engine.begin() as conn:
            record_fill(conn, tenant_id=tenant, machine_id=ids[name], selection="10", to_par=True,
                        recorded_by="key:test", filled_at=start)  # fmt: skip
    _audit(pipeline, runner, tenant, "SN-Low", NOW - timedelta(hours=1), 107)  # 7 sold: 3 left, at its threshold
    _audit(pipeline, runner, tenant, "SN-Full", NOW - timedelta(hours=1), 100)
    yield World(engine, tenant, depot.id, truck.id, ids["Low"], ids["Full"], ids["Loose"])
    engine.dispose()


def test_dispatch_plans_the_due_machine_with_picks_to_par(world: World) -> None:
    (stored,) = run_dispatch(world.engine, tenant_id=world.tenant, now=NOW, seconds=SECONDS, forecasts=source(1.0))
    assert stored.status == "dispatched" and stored.depot_id == world.depot
    assert stored.plan.created_at == NOW and stored.plan.meta["reason"] == "scheduled"
    (truck,) = stored.plan.trucks
    stop = next(s for s in truck.stops if s.machine_id == world.low)
    assert stop.reason == "due" and stop.eta >= datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # not before the shift
    with world.engine.connect() as conn:
        request = build_plan_request(
            conn, tenant_id=world.tenant, now=NOW, forecaster=steady(1.0), next_opportunity=NOW + timedelta(days=1)
        )
    column = next(m for m in request.machines if m.machine_id == world.low).columns[0]
    assert column.on_hand == pytest.approx(3 - 1 / 24, abs=0.01)  # 3 at the audit, an hour's demand since
    (pick,) = stop.picks
    assert pick.quantity == column_pick(column, now=NOW, eta=stop.eta, policy="unit")
    assert abs(pick.quantity - (column.par - on_hand_at(column, now=NOW, at=stop.eta))) <= 0.5
    assert truck.load == {"cola": sum(p.quantity for s in truck.stops for p in s.picks)}
    assert world.loose not in {s.machine_id for s in truck.stops}  # no depot: not planned


def test_batch_forecaster_runs_end_to_end(world: World) -> None:
    (stored,) = run_dispatch(world.engine, tenant_id=world.tenant, now=NOW, seconds=SECONDS)
    assert world.low in {s.machine_id for t in stored.plan.trucks for s in t.stops}


def test_history_lookup_refits_ambiguous_histories_and_reanchors() -> None:
    origin = NOW
    a = ColumnForecast(origin, (1.0,), (1.0,), "a")
    b = ColumnForecast(origin, (2.0,), (2.0,), "b")
    history = [(date(2026, 11, 28), 3)]
    lookup = HistoryLookup({"x": a, "y": b, "z": a}, {"x": history, "y": history, "z": []}, origin)
    assert lookup([], origin) is a
    assert lookup([], origin - timedelta(hours=5)).origin == origin - timedelta(hours=5)
    refit = lookup(history, origin)  # ambiguous: fitted alone
    assert refit.origin == origin and refit.model not in ("a", "b")


def test_replanning_supersedes_plans_not_started_and_keeps_a_truck_that_is_out(world: World) -> None:
    (first,) = run_dispatch(world.engine, tenant_id=world.tenant, now=NOW, seconds=SECONDS, forecasts=source(1.0))
    (second,) = run_dispatch(world.engine, tenant_id=world.tenant, now=NOW, seconds=SECONDS, forecasts=source(1.0))
    with world.engine.connect() as conn:
        assert load_plan(conn, tenant_id=world.tenant, plan_id=first.id).status == "superseded"
    (truck,) = second.plan.trucks
    out = truck.departs + timedelta(minutes=1)  # the driver has left
    (third,) = run_dispatch(
        world.engine, tenant_id=world.tenant, now=out, reason="called", seconds=SECONDS, forecasts=source(1.0)
    )
    with world.engine.connect() as conn:
        assert load_plan(conn, tenant_id=world.tenant, plan_id=second.id).status == "dispatched"
        dispatched = {p.id for p in latest_plans(conn, tenant_id=world.tenant, status="dispatched")}
    assert dispatched == {second.id, third.id}
    assert third.plan.meta["busy_trucks"] == [world.truck]
    assert third.plan.meta["covered"] == [world.low]
    assert world.low not in {s.machine_id for t in third.plan.trucks for s in t.stops}
    for later in third.plan.trucks:  # a second route only after the truck is back
        assert later.departs >= truck.returns


def test_calling_machines(world: World) -> None:
    def calling(at: datetime) -> list[str]:
        with world.engine.connect() as conn:
            return calling_machines(conn, tenant_id=world.tenant, now=at)

    assert calling(NOW) == [world.low]  # at its threshold; the loose machine has no depot
    with world.engine.begin() as conn:
        open_alert(conn, tenant_id=world.tenant, machine_id=world.full, kind="fault", ref="J1", message="jam",
                   at=NOW + timedelta(minutes=5))  # fmt: skip
    assert calling(NOW) == [world.low]  # the fault opens later
    assert sorted(calling(NOW + timedelta(minutes=10))) == sorted([world.low, world.full])
    run_dispatch(world.engine, tenant_id=world.tenant, now=NOW + timedelta(minutes=10), seconds=SECONDS,
                 forecasts=source(1.0))  # fmt: skip
    assert calling(NOW + timedelta(minutes=10)) == []  # both have a visit ahead
