"""Fleet → PlanRequest, and Plan → rows → Plan with its status life cycle (both backends)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from tradeoff.core.errors import Conflict, Forbidden, InvalidInput
from tradeoff.platform import tenancy
from tradeoff.vending import fleet
from tradeoff.vending.fills import record_fill
from tradeoff.vending.forecast.model import ColumnForecast
from tradeoff.vending.plan_store import (
    Forecaster,
    build_plan_request,
    latest_plans,
    load_plan,
    save_plan,
    set_plan_status,
)
from tradeoff.vending.planning.model import Pick, Plan, PlannedStop, TruckPlan
from tradeoff.vending.projections import open_alert

NOW = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # a Monday, 06:00 in Berlin


def steady(rate: float) -> Forecaster:
    """A stand-in forecaster (forecasting is injected): the same rate every day."""

    def forecast(history: Sequence[tuple[date, int]], origin: datetime) -> ColumnForecast:
        return ColumnForecast(origin=origin, daily_mean=(rate,), daily_var=(rate,), model="steady")

    return forecast


@dataclass
class Ids:
    tenant: str
    other: str
    depot: str
    truck: str
    machine: str
    bare: str


@pytest.fixture
def ids(engine: Engine) -> Ids:
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="vendco", name="VendCo", kind="vending_operator").id
        other = tenancy.create_tenant(conn, slug="other", name="Other", kind="vending_operator").id
        depot = fleet.create_depot(conn, tenant_id=tenant, name="North", lat=52.5, lon=13.4, timezone="Europe/Berlin")
        truck = fleet.create_truck(
            conn, tenant_id=tenant, depot_id=depot.id, name="T1", capacity_units=500, shift_start="06:00",
            shift_end="14:00",
        )  # fmt: skip
        fleet.create_product(conn, tenant_id=tenant, sku="cola", name="Cola", case_size=24)
        machine = fleet.create_machine(
            conn, tenant_id=tenant, name="Lobby", lat=52.52, lon=13.41, timezone="Europe/Berlin", depot_id=depot.id,
            opening_hours={"mon": [["07:00", "12:00"], ["13:00", "19:00"]], "tue": [["07:00", "19:00"]]},
        )  # fmt: skip
        spec = fleet.ColumnSpec(selection="10", product="cola", capacity=12, par=10, threshold_pct=30)
        fleet.set_planogram(conn, tenant_id=tenant, machine_id=machine.id, columns=[spec])
        record_fill(
            conn, tenant_id=tenant, machine_id=machine.id, selection="10", level=8, recorded_by="key:k",
            filled_at=NOW - timedelta(days=2),
        )  # fmt: skip
        bare = fleet.create_machine(conn, tenant_id=tenant, name="No planogram", lat=1, lon=1, depot_id=depot.id)
    return Ids(tenant, other, depot.id, truck.id, machine.id, bare.id)


def test_build_plan_request(engine: Engine, ids: Ids) -> None:
    forecaster = steady(1.5)
    with engine.begin() as conn:
        open_alert(conn, tenant_id=ids.tenant, machine_id=ids.machine, kind="fault", ref="J1", message="jam", at=NOW)
        request = build_plan_request(
            conn, tenant_id=ids.tenant, now=NOW, forecaster=forecaster,
            next_opportunity=NOW + timedelta(days=1, hours=13), depot_id=ids.depot,
        )  # fmt: skip
    (truck,) = request.trucks
    assert truck.capacity_units == 500 and truck.depot.lat == 52.5
    assert (truck.shift_start, truck.shift_end) == (NOW, NOW + timedelta(hours=8))
    (machine,) = request.machines  # the machine without a planogram is left out
    assert machine.called_at == NOW
    (column,) = machine.columns
    assert (column.product, column.par, column.threshold, column.case_size) == ("cola", 10, 3, 24)
    assert column.on_hand == pytest.approx(5.0)  # 8 filled two days ago, 1.5 a day since
    assert column.forecast.origin == NOW
    starts = [(w.start.isoformat(), w.end.isoformat()) for w in machine.windows]
    assert starts == [
        ("2026-11-30T06:00:00+00:00", "2026-11-30T11:00:00+00:00"),
        ("2026-11-30T12:00:00+00:00", "2026-11-30T18:00:00+00:00"),
        ("2026-12-01T06:00:00+00:00", "2026-12-01T18:00:00+00:00"),
    ]


def test_build_plan_request_rejects_bad_times(engine: Engine, ids: Ids) -> None:
    with engine.begin() as conn, pytest.raises(InvalidInput):
        build_plan_request(conn, tenant_id=ids.tenant, now=NOW, forecaster=steady(1), next_opportunity=NOW)


def _plan(ids: Ids, created: datetime = NOW) -> Plan:
    stop = PlannedStop(
        machine_id=ids.machine,
        eta=NOW + timedelta(hours=1),
        departs=NOW + timedelta(hours=1, minutes=15),
        reason="due",
        picks=(Pick("10", "cola", 6),),
    )
    truck = TruckPlan(
        truck_id=ids.truck,
        stops=(stop,),
        load={"cola": 6},
        distance_m=12_345,
        departs=NOW,
        returns=NOW + timedelta(hours=3),
    )
    return Plan(created_at=created, trucks=(truck,), deferred=("m-late",), meta={"solver": "test", "cost": 1.5})


def test_save_load_and_life_cycle(engine: Engine, ids: Ids) -> None:
    with engine.begin() as conn:
        first = save_plan(conn, tenant_id=ids.tenant, plan=_plan(ids), depot_id=ids.depot)
        second = save_plan(conn, tenant_id=ids.tenant, plan=_plan(ids, NOW + timedelta(minutes=1)), depot_id=ids.depot)
    with engine.begin() as conn:
        stored = load_plan(conn, tenant_id=ids.tenant, plan_id=second)
        assert stored.plan == _plan(ids, NOW + timedelta(minutes=1))
        assert stored.status == "proposed"
        assert load_plan(conn, tenant_id=ids.tenant, plan_id=first).status == "superseded"
        assert [p.id for p in latest_plans(conn, tenant_id=ids.tenant)] == [second, first]
        assert [p.id for p in latest_plans(conn, tenant_id=ids.tenant, status="proposed")] == [second]
        assert set_plan_status(conn, tenant_id=ids.tenant, plan_id=second, status="dispatched").status == "dispatched"
        with pytest.raises(Conflict):
            set_plan_status(conn, tenant_id=ids.tenant, plan_id=second, status="proposed")
        assert set_plan_status(conn, tenant_id=ids.tenant, plan_id=second, status="completed").status == "completed"
        with pytest.raises(Forbidden):
            load_plan(conn, tenant_id=ids.other, plan_id=second)
        assert latest_plans(conn, tenant_id=ids.other) == []


def test_a_plan_naming_another_tenants_truck_is_refused(engine: Engine, ids: Ids) -> None:
    with engine.begin() as conn, pytest.raises(Forbidden):
        save_plan(conn, tenant_id=ids.other, plan=_plan(ids))
    with engine.begin() as conn:
        assert latest_plans(conn, tenant_id=ids.other) == []
