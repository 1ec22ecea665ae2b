"""The simulated fleet: physics of stock and meters, DEX that parses back, drivers, seeding, determinism."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tradeoff.platform.db.engine import make_engine, write_transaction
from tradeoff.platform.db.migrate import upgrade
from tradeoff.sim.base import GeneratorContext
from tradeoff.sim.generators import GENERATORS
from tradeoff.vending import validate
from tradeoff.vending.dex import parse_dex
from tradeoff.vending.sim import FLEET_GENERATOR, FleetOptions, VendingFleetGenerator
from tradeoff.vending.sim_driver import DispatchedPlan, Drivers, Stop, parse_plan
from tradeoff.vending.sim_fleet import fleet_spec, fleet_world
from tradeoff.vending.sim_model import FleetModel
from tradeoff.vending.sim_seed import seed_fleet, stock_new_machines

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday
SPEC = fleet_spec(machines=4, columns=6)


def test_spec_is_a_plausible_fleet() -> None:
    spec = fleet_spec()
    assert 12 <= len(spec.machines) <= 20 and len(spec.trucks) == 2
    assert len({m.serial for m in spec.machines}) == len(spec.machines)
    for machine in spec.machines:
        validate.opening_hours(machine.opening_hours)
        assert abs(machine.lat - 52.52) < 0.06 and abs(machine.lon - 13.405) < 0.1
        assert all(c.sku in spec.products and c.par <= c.capacity for c in machine.columns)
    assert fleet_spec() == spec  # same arguments, same fleet


def test_stock_never_negative_and_sold_out_columns_do_not_vend() -> None:
    model = FleetModel(SPEC, start=START, seed=1)
    serial = SPEC.machines[0].serial
    for day in range(1, 15):
        model.advance(serial, START + timedelta(days=day))
        assert all(units >= 0 for units in model.stock(serial).values())
    columns = model.machines[serial].columns.values()
    empty = [c for c in columns if c.stock == 0]
    assert empty, "two weeks without a fill empties some column"
    frozen = {c.spec.selection: c.vends_total for c in empty}
    lost = sum(c.lost for c in empty)
    model.advance(serial, START + timedelta(days=21))
    assert {c.spec.selection: c.vends_total for c in empty} == frozen
    assert sum(c.lost for c in empty) > lost
    for column in columns:
        assert column.vends_total == column.sold and column.value_total == column.sold * column.spec.price


def test_dex_counters_are_cumulative_and_parse_back() -> None:
    model = FleetModel(SPEC, start=START, seed=2)
    serial = SPEC.machines[1].serial
    previous: dict[str, int] = {}
    for hours in (6, 30, 54, 78):
        audit = parse_dex(model.audit(serial, START + timedelta(hours=hours, microseconds=5)))
        assert audit.machine.serial == serial and audit.checksum.valid
        assert audit.read_at == (START + timedelta(hours=hours)).replace(tzinfo=None).isoformat()
        state = model.machines[serial].columns
        for column in audit.columns:
            assert column.vends_total == state[column.selection].vends_total
            assert column.vends_total >= previous.get(column.selection, 0)
            previous[column.selection] = column.vends_total or 0
    assert audit.reads is not None and audit.reads.count == 4
    assert sum(previous.values()) > 0


def test_fill_caps_at_capacity_and_counts_units() -> None:
    model = FleetModel(SPEC, start=START, seed=3)
    machine = SPEC.machines[0]
    column = machine.columns[0]
    at = START + timedelta(days=2)
    before = model.stock(machine.serial)  # stock at START; fill advances to ``at`` first
    added = model.fill(machine.serial, {column.selection: 10_000, "nope": 3}, at)
    assert model.stock(machine.serial)[column.selection] == column.capacity
    assert set(added) == {column.selection} and 0 < added[column.selection] <= column.capacity
    assert before[column.selection] <= column.capacity


def _ctx(seed: int = 5) -> GeneratorContext:
    return GeneratorContext(world=fleet_world(SPEC), start=START, seed=seed, run_id="run1")


def _run(generator: VendingFleetGenerator, hours: int) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    for step in range(1, hours * 6 + 1):
        events.extend(generator.tick(START + timedelta(minutes=10 * step), timedelta(minutes=10)))
    return events


def test_generator_is_registered_and_silent_until_attached() -> None:
    assert GENERATORS[FLEET_GENERATOR] is VendingFleetGenerator
    assert _run(VendingFleetGenerator(_ctx()), 24) == []


def test_generator_sends_dex_and_telemetry_with_bounded_volume_and_determinism() -> None:
    def run() -> list[dict[str, object]]:
        generator = VendingFleetGenerator(_ctx())
        generator.attach(FleetModel(SPEC, start=START, seed=5), machine_ids={})
        return _run(generator, 48)

    events = run()
    dex = [e for e in events if e.get("format") == "dex"]
    telemetry = [e for e in events if e.get("type") == "vending.telemetry"]
    per_machine_day = len(dex) / len(SPEC.machines) / 2
    assert 5 <= per_machine_day <= 7  # every 4 h ± 10 %
    assert 10 <= len(telemetry) / len(SPEC.machines) / 2 <= 14
    assert {e["source"] for e in dex} == {m.device for m in SPEC.machines}
    assert len({e["event_id"] for e in events}) == len(events)
    assert all(isinstance(e["body"], bytes) and parse_dex(e["body"]).checksum.valid for e in dex)
    assert run() == events  # same seed and start, same bytes


class FakeClient:
    def __init__(self, plans: list[DispatchedPlan]) -> None:
        self.plans = plans
        self.fills: list[tuple[str, dict[str, int], datetime]] = []
        self.completed: list[str] = []

    def dispatched(self) -> list[DispatchedPlan]:
        return [p for p in self.plans if p.plan_id not in self.completed]

    def post_fill(self, machine_id: str, units: Mapping[str, int], at: datetime) -> None:
        self.fills.append((machine_id, dict(units), at))

    def complete(self, plan_id: str) -> None:
        self.completed.append(plan_id)


def test_drivers_fill_at_the_eta_and_complete_the_plan() -> None:
    machine = SPEC.machines[0]
    selection = machine.columns[0].selection
    eta1, eta2 = START + timedelta(hours=9), START + timedelta(hours=10)
    stops = (
        Stop("p1", 0, 0, "id-0", eta1, {selection: 6}),
        Stop("p1", 0, 1, "id-1", eta2, {SPEC.machines[1].columns[0].selection: 4}),
    )
    client = FakeClient([DispatchedPlan("p1", stops)])
    model = FleetModel(SPEC, start=START, seed=6)
    generator = VendingFleetGenerator(_ctx())
    ids = {SPEC.machines[0].serial: "id-0", SPEC.machines[1].serial: "id-1"}
    generator.attach(model, machine_ids=ids, client=client, options=FleetOptions(poll_every=timedelta(hours=1)))
    _run(generator, 9)
    assert client.fills and client.fills[0][0] == "id-0" and client.fills[0][2] == eta1
    assert client.completed == []
    _run(generator, 11)  # the steps replay from START, but the stops are served only once
    assert [f[0] for f in client.fills] == ["id-0", "id-1"] and client.completed == ["p1"]
    assert generator.drivers is not None and generator.drivers.stats.stops_served == 2


def test_drivers_drop_a_superseded_plan() -> None:
    stop = Stop("old", 0, 0, "id-0", START + timedelta(hours=5), {"10": 1})
    client = FakeClient([DispatchedPlan("old", (stop,))])
    drivers = Drivers(client=client, fill=lambda m, p, at: ({}, at), poll=timedelta(minutes=1))
    assert drivers.due(START) == []
    client.plans = []
    assert drivers.due(START + timedelta(hours=6)) == [] and drivers.stats.plans_dropped == 1


def test_parse_plan_reads_the_plan_api_shape() -> None:
    body = {
        "id": "p9",
        "status": "dispatched",
        "plan": {"trucks": [{"stops": [{"machine_id": "m", "eta": "2026-03-02T09:00:00Z",
                                        "picks": [{"selection": "10", "product": "x", "quantity": 6}]}]}]},
    }  # fmt: skip
    plan = parse_plan(body)
    assert plan == parse_plan({"id": "p9", **body["plan"]})  # type: ignore[dict-item]
    assert plan.stops[0].eta == datetime(2026, 3, 2, 9, tzinfo=UTC) and plan.stops[0].picks == {"10": 6}


def test_seeding_is_idempotent_and_resumes_from_the_platform(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC) - timedelta(minutes=1)
    try:
        with write_transaction(engine) as conn:
            first = seed_fleet(conn, SPEC)
            added = stock_new_machines(conn, SPEC, first, at=now)
        with write_transaction(engine) as conn:
            second = seed_fleet(conn, SPEC)
            again = stock_new_machines(conn, SPEC, second, at=now)
    finally:
        engine.dispose()
    assert second.machine_ids == first.machine_ids and again == {}
    assert set(added) == set(second.resume) == {m.serial for m in SPEC.machines}
    model = FleetModel(SPEC, start=now, seed=0, resume=second.resume)
    fresh = FleetModel(SPEC, start=now, seed=0)
    assert {s: model.stock(s) for s in model.machines} == {s: fresh.stock(s) for s in fresh.machines}
    assert second.resume_at is not None and abs(second.resume_at - now) < timedelta(seconds=1)  # the opening fill
    assert replace(second, resume={}).resume_at is None
