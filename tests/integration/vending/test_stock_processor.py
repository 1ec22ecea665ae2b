"""DEX audits and telemetry through the real pipeline and bus into stock, history and alerts (both backends)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, func, select

from tests.support.shared_data import shared_data
from tradeoff.platform import tenancy
from tradeoff.platform.bus import ProcessorRunner
from tradeoff.platform.db.tables import dead_letters
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.message import IngestReport, RawMessage
from tradeoff.platform.ingest.pipeline import IngestPipeline
from tradeoff.vending import fleet, views
from tradeoff.vending.fills import record_fill
from tradeoff.vending.payloads import PayloadGate
from tradeoff.vending.plan_request import daily_history
from tradeoff.vending.stock_processor import VendingStockProcessor
from tradeoff.vending.store import vending_audits

T0 = datetime(2026, 11, 2, 6, tzinfo=UTC)
DEX_DATA = shared_data("dex")
_ids = itertools.count()


@dataclass
class Fleet:
    engine: Engine
    pipeline: IngestPipeline
    runner: ProcessorRunner
    tenant_id: str
    machine_id: str

    def send(self, type_: str, payload: dict[str, Any], at: datetime, source: str = "vm-1") -> IngestReport:
        event = {"event_id": f"ev-{next(_ids)}", "type": type_, "occurred_at": at.isoformat(), "source": source}
        body = orjson.dumps({"events": [{**event, "payload": payload}]})
        message = RawMessage(body=body, transport="http", tenant_id=self.tenant_id, received_at=at)
        report = self.pipeline.ingest(message, decoder="json-batch")
        while self.runner.run_once():
            pass
        return report

    def audit(
        self, at: datetime, columns: dict[str, tuple[int | None, ...]], source: str = "vm-1", **extra: Any
    ) -> IngestReport:
        """columns: selection → (PA201, PA202[, PA203]); totals default to the columns' sums."""
        cols = []
        for selection, counters in columns.items():
            pa201, pa202, *rest = counters
            cols.append(
                {
                    "selection": selection,
                    "product": f"P{selection}",
                    "price": 150,
                    "vends_total": pa201,
                    "value_total": pa202,
                    "vends_since_reset": rest[0] if rest else None,
                    "value_since_reset": None,
                    "test_vends": 0,
                    "free_vends": 0,
                }
            )
        totals = {
            "vends": sum(c["vends_total"] or 0 for c in cols),
            "value": sum(c["value_total"] or 0 for c in cols),
        }
        payload = {
            "machine": {"serial": "SN-1", "model": "M", "asset": None},
            "read_at": at.isoformat(),
            "currency": "EUR",
            "decimals": 2,
            "totals": totals,
            "columns": cols,
            "checksum": {"present": True, "valid": True, "variant": "incl"},
            "truncated": False,
            "warnings": [],
            "sha256": f"{next(_ids):064x}",
        }
        payload.update(extra)
        return self.send("vending.dex_audit", payload, at, source=source)

    def stock(self) -> dict[str, views.ColumnView]:
        with self.engine.connect() as conn:
            columns = views.machine_stock(conn, tenant_id=self.tenant_id, machine_id=self.machine_id)
        return {c.selection: c for c in columns}

    def alerts(self, kind: str | None = None, resolved: bool = False) -> list[views.Alert]:
        with self.engine.connect() as conn:
            return views.list_alerts(conn, tenant_id=self.tenant_id, kind=kind, include_resolved=resolved)

    def fill(self, selection: str, at: datetime, **how: Any) -> None:
        with self.engine.begin() as conn:
            record_fill(
                conn,
                tenant_id=self.tenant_id,
                machine_id=self.machine_id,
                selection=selection,
                recorded_by="key:test",
                filled_at=at,
                **how,
            )


@pytest.fixture
def world(engine: Engine) -> Fleet:
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="vendco", name="VendCo", kind="vending_operator")
        device = tenancy.create_device(conn, tenant_id=tenant.id, external_id="vm-1", kind="vending_machine")
        machine = fleet.create_machine(
            conn, tenant_id=tenant.id, name="Lobby", lat=52.5, lon=13.4, dex_serial="SN-1", device_id=device.id,
            max_celsius=8.0,
        )  # fmt: skip
        for sku in ("cola", "water"):
            fleet.create_product(conn, tenant_id=tenant.id, sku=sku, name=sku.title(), case_size=24)
        specs = [
            fleet.ColumnSpec(selection="10", product="cola", capacity=12, par=10, threshold_pct=30),
            fleet.ColumnSpec(selection="11", product="water", capacity=12, par=10, threshold_pct=30),
        ]
        fleet.set_planogram(conn, tenant_id=tenant.id, machine_id=machine.id, columns=specs)
    pipeline = IngestPipeline(engine=engine, decoders=default_registry(1000))
    pipeline.add_gate(PayloadGate())
    runner = ProcessorRunner(engine, VendingStockProcessor())
    return Fleet(engine, pipeline, runner, tenant.id, machine.id)


def test_fill_then_audits_give_on_hand_and_daily_history(world: Fleet) -> None:
    world.audit(T0, {"10": (100, 15_000), "11": (50, 7_500)})  # baseline, Monday 06:00
    world.fill("10", T0 + timedelta(minutes=1), to_par=True)
    world.fill("11", T0 + timedelta(minutes=1), level=8)
    world.audit(T0 + timedelta(days=1), {"10": (104, 15_600), "11": (51, 7_650)})
    stock = world.stock()
    assert (stock["10"].on_hand, stock["11"].on_hand) == (6, 7)
    assert stock["10"].product_sku == "cola" and stock["10"].threshold == 3 and not stock["10"].due
    world.audit(T0 + timedelta(days=3), {"10": (107, 16_050), "11": (51, 7_650)})
    with world.engine.connect() as conn:
        history = daily_history(conn, tenant_id=world.tenant_id, machine_id=world.machine_id)
    # only whole days inside the audited span: Tuesday and Wednesday (Monday and Thursday are partial)
    assert history["10"] == [(date(2026, 11, 3), 2), (date(2026, 11, 4), 2)]
    assert history["11"] == [(date(2026, 11, 3), 0), (date(2026, 11, 4), 0)]
    assert world.stock()["10"].on_hand == 3


def test_a_missing_audit_is_covered_by_pa201(world: Fleet) -> None:
    world.audit(T0, {"10": (100, 15_000)})
    world.fill("10", T0, level=10)
    # the audit of day 1 never arrives; day 2's covers both days
    world.audit(T0 + timedelta(days=2), {"10": (107, 16_050)})
    assert world.stock()["10"].on_hand == 3
    assert world.stock()["10"].due  # 3 ≤ 30 % of par 10


def test_pa201_backwards_falls_back_to_pa203_and_alerts(world: Fleet) -> None:
    world.audit(T0, {"10": (900, 135_000, 40)})
    world.fill("10", T0, level=10)
    world.audit(T0 + timedelta(days=1), {"10": (2, 300, 2)})  # board re-initialised
    assert world.stock()["10"].on_hand == 8
    assert "counter_reset" in world.stock()["10"].flags
    assert [a.ref for a in world.alerts("counter_reset")] == ["10"]
    assert world.alerts("reconciliation") == []  # totals went backwards too: skipped, not a mismatch


def test_a_fill_between_audits_only_loses_later_sales(world: Fleet) -> None:
    world.audit(T0, {"10": (0, 0)})
    world.fill("10", T0 + timedelta(hours=6), level=12)  # 6 h into a 10 h window
    world.audit(T0 + timedelta(hours=10), {"10": (10, 1_500)})
    assert world.stock()["10"].on_hand == 8  # 12 - 4 of the 10 sold


def test_a_new_column_appearing_is_a_baseline_and_flagged(world: Fleet) -> None:
    world.audit(T0, {"10": (5, 750)})
    world.audit(T0 + timedelta(hours=2), {"10": (6, 900), "99": (40, 6_000)})
    stock = world.stock()
    assert "99" in stock and not stock["99"].in_planogram and "not_in_planogram" in stock["99"].flags
    assert stock["99"].vends_since_level == 0  # its 40 historic vends are not charged to anything
    world.audit(T0 + timedelta(hours=4), {"10": (6, 900), "99": (43, 6_450)})
    assert world.stock()["99"].vends_since_level == 3


def test_sold_out_by_sales_and_by_sensor_resolves_on_fill(world: Fleet) -> None:
    world.audit(T0, {"10": (0, 0), "11": (0, 0)})
    world.fill("10", T0, level=3)
    world.audit(T0 + timedelta(hours=3), {"10": (5, 750), "11": (0, 0)})
    assert world.stock()["10"].sold_out and world.stock()["10"].on_hand == 0
    world.send("vending.telemetry", {"kind": "slot_stock", "selection": "11", "units": 0}, T0 + timedelta(hours=4))
    assert world.stock()["11"].sold_out
    assert sorted(a.ref for a in world.alerts("sold_out")) == ["10", "11"]
    world.fill("10", T0 + timedelta(hours=5), to_par=True)
    assert [a.ref for a in world.alerts("sold_out")] == ["11"]
    assert not world.stock()["10"].sold_out and world.stock()["10"].on_hand == 10


def test_a_sensor_count_is_a_level_for_later_audits(world: Fleet) -> None:
    world.audit(T0, {"10": (0, 0)})
    world.send("vending.telemetry", {"kind": "slot_stock", "selection": "10", "units": 9}, T0 + timedelta(hours=5))
    world.audit(T0 + timedelta(hours=10), {"10": (4, 600)})  # 2 of the 4 fell after the count
    column = world.stock()["10"]
    assert (column.on_hand, column.level_source, column.sensor_units) == (7, "sensor", 9)


def test_reconciliation_mismatch_is_flagged(world: Fleet) -> None:
    world.audit(T0, {"10": (10, 1_500)}, totals={"vends": 10, "value": 1_500})
    world.audit(T0 + timedelta(hours=5), {"10": (14, 2_100)}, totals={"vends": 14, "value": 2_700})
    alerts = world.alerts("reconciliation")
    assert len(alerts) == 1 and alerts[0].details["columns_value"] == 600 and alerts[0].details["totals_value"] == 1_200
    with world.engine.connect() as conn:
        audits = views.list_audits(conn, tenant_id=world.tenant_id, machine_id=world.machine_id)
    assert [a["reconciliation"] for a in audits] == ["mismatch", "skipped"]
    assert [a["status"] for a in audits] == ["applied", "baseline"]


def test_the_same_file_twice_and_a_late_audit_change_nothing(world: Fleet) -> None:
    world.audit(T0, {"10": (0, 0)})
    world.fill("10", T0, level=10)
    world.audit(T0 + timedelta(hours=5), {"10": (3, 450)}, sha256="ab" * 32)
    world.audit(T0 + timedelta(hours=6), {"10": (3, 450)}, sha256="ab" * 32)  # same file, other event id
    world.audit(T0 + timedelta(hours=2), {"10": (1, 150)})  # arrives late
    assert world.stock()["10"].on_hand == 7
    with world.engine.connect() as conn:
        statuses = conn.execute(select(vending_audits.c.status).order_by(vending_audits.c.id)).scalars().all()
    assert statuses == ["baseline", "applied", "duplicate", "out_of_order"]


def test_telemetry_state_faults_and_temperature(world: Fleet) -> None:
    readings = [
        {"kind": "door", "open": True},
        {"kind": "temperature", "celsius": 11.5},
        {"kind": "fault", "code": "J1", "message": "coin jam"},
    ]
    world.send("vending.telemetry", {"readings": readings}, T0)
    with world.engine.connect() as conn:
        state = views.machine_state(conn, tenant_id=world.tenant_id, machine_id=world.machine_id)
    assert state["door_open"] is True and state["celsius"] == 11.5
    assert {a.kind for a in world.alerts()} == {"fault", "temperature"}
    world.send("vending.telemetry", {"kind": "fault", "code": "J1", "active": False}, T0 + timedelta(minutes=5))
    world.send("vending.telemetry", {"kind": "temperature", "celsius": 4.0}, T0 + timedelta(minutes=6))
    assert world.alerts() == []
    assert len(world.alerts(resolved=True)) == 2


def test_unknown_machines_raise_an_alert(world: Fleet) -> None:
    world.audit(T0, {"1": (1, 100)}, machine={"serial": "NOPE"}, source="dex-NOPE")
    world.send("vending.telemetry", {"kind": "door", "open": False}, T0, source="stranger")
    assert sorted(a.ref for a in world.alerts("unknown_machine")) == ["NOPE", "stranger"]
    with world.engine.begin() as conn:  # the operator registers the machine; its next audit matches
        fleet.create_machine(conn, tenant_id=world.tenant_id, name="Found", lat=0, lon=0, dex_serial="NOPE")
    world.audit(T0 + timedelta(hours=1), {"1": (2, 200)}, machine={"serial": "NOPE"}, source="dex-NOPE")
    assert [a.ref for a in world.alerts("unknown_machine")] == ["stranger"]


def test_bad_telemetry_is_dead_lettered_with_the_field(world: Fleet) -> None:
    report = world.send("vending.telemetry", {"kind": "slot_stock", "selection": "10", "units": -2}, T0)
    assert report.items[0].status == "rejected" and report.items[0].field == "payload.units"
    with world.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dead_letters)).scalar() == 1
    assert world.stock()["10"].sensor_units is None


def test_an_audit_from_the_machines_device_matches_without_a_serial(world: Fleet) -> None:
    world.audit(T0, {"10": (1, 150)}, machine={"serial": None})
    world.audit(T0 + timedelta(hours=1), {"10": (2, 300)}, machine={"serial": "unregistered"})
    with world.engine.connect() as conn:
        machines = conn.execute(select(vending_audits.c.machine_id)).scalars().all()
    assert machines == [world.machine_id, world.machine_id] and world.alerts("unknown_machine") == []
    with world.engine.connect() as conn:
        flags = conn.execute(select(vending_audits.c.flags).order_by(vending_audits.c.id)).scalars().all()
    assert "serial_mismatch" not in flags[0] and "serial_mismatch" in flags[1]


def test_a_read_time_without_offset_is_the_machines_local_time(world: Fleet) -> None:
    with world.engine.begin() as conn:
        fleet.update_machine(
            conn, tenant_id=world.tenant_id, machine_id=world.machine_id, changes={"timezone": "Europe/Berlin"}
        )
    world.audit(T0, {"10": (1, 150)}, read_at="2026-11-02T09:30:00")
    with world.engine.connect() as conn:
        read_at = conn.execute(select(vending_audits.c.read_at)).scalar_one()
    assert read_at == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def test_real_dex_files_through_the_dex_decoder(world: Fleet) -> None:
    decoder = pytest.importorskip("tradeoff.vending.dex.decoder")
    world.pipeline.decoders.register(decoder.DexDecoder())
    with world.engine.begin() as conn:
        fleet.update_machine(
            conn, tenant_id=world.tenant_id, machine_id=world.machine_id, changes={"dex_serial": "NEC01190360"}
        )
    folder = DEX_DATA / "thiopcb_evadts-csv-export"
    for name in ("NW_BlueRed_Pc54601_20191230144918.daa", "NW_BlueRed_Pc54601_20191230145020.daa"):
        body = (folder / name).read_bytes()
        message = RawMessage(body=body, transport="file", tenant_id=world.tenant_id, received_at=T0)
        assert world.pipeline.ingest(message, decoder="dex").items[0].status == "accepted"
    while world.runner.run_once():
        pass
    with world.engine.connect() as conn:
        audits = views.list_audits(conn, tenant_id=world.tenant_id, machine_id=world.machine_id)
    assert [a["status"] for a in audits] == ["applied", "baseline"]
    # the pair (EA3 reads 70 → 71, a minute apart) sold nothing and carries no PA201: PA203 is used, flagged
    assert audits[0]["vends"] == 0 and "no_pa201" in audits[0]["flags"]
    audited = [c for c in world.stock().values() if c.last_audit_at is not None]
    assert len(audited) == 16 and all({"no_pa201", "no_counters"} & set(c.flags) for c in audited)
