"""Vending event payloads: telemetry readings and DEX audit JSON, with errors naming the field."""

from datetime import UTC, datetime
from typing import Any

import pytest

from tradeoff.core.errors import InvalidInput
from tradeoff.core.events import EventIn
from tradeoff.vending.payloads import (
    Door,
    Fault,
    PayloadGate,
    SlotStock,
    Temperature,
    parse_audit,
    parse_telemetry,
)


def test_each_reading_kind() -> None:
    assert parse_telemetry({"kind": "slot_stock", "selection": "12", "units": 3}) == [SlotStock("12", 3)]
    assert parse_telemetry({"kind": "slot_stock", "selection": 12, "units": 0}) == [SlotStock("12", 0)]
    assert parse_telemetry({"kind": "door", "open": True}) == [Door(True)]
    assert parse_telemetry({"kind": "temperature", "celsius": 5}) == [Temperature(5.0)]
    assert parse_telemetry({"kind": "fault", "code": "J1"}) == [Fault("J1", True, "")]
    batch = {"readings": [{"kind": "door", "open": False}, {"kind": "fault", "code": 7, "active": False}]}
    assert parse_telemetry(batch) == [Door(False), Fault("7", False, "")]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "smell"}, "payload.kind"),
        ({}, "payload.kind"),
        ({"kind": "slot_stock", "selection": "12", "units": -1}, "payload.units"),
        ({"kind": "slot_stock", "selection": "12", "units": True}, "payload.units"),
        ({"kind": "slot_stock", "selection": "a b", "units": 1}, "payload.selection"),
        ({"kind": "door", "open": "yes"}, "payload.open"),
        ({"kind": "temperature", "celsius": 500}, "payload.celsius"),
        ({"kind": "fault", "code": ""}, "payload.code"),
        ({"readings": []}, "payload.readings"),
        ({"readings": [{"kind": "door", "open": 1}]}, "payload.readings[0].open"),
    ],
)
def test_bad_readings_name_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_telemetry(payload)
    assert caught.value.field == field


def test_audit_reads_the_parser_json_and_ignores_extras() -> None:
    payload = {
        "machine": {"serial": " 123456 ", "model": "X"},
        "read_at": "2026-11-29T10:15:00",
        "currency": "EUR",
        "decimals": 2,
        "totals": {"vends": 10, "value": 1500, "test_vends": 1},
        "columns": [
            {"selection": "10", "product": "Cola", "price": 150, "vends_total": 7, "value_total": "1050"},
            {"selection": None, "vends_total": 3},
            {"selection": 11, "vends_total": None, "sold_out": {"count": 1}},
        ],
        "checksum": {"present": True, "valid": False, "variant": None},
        "sha256": "0123abcd:" * 7 + "0123abcd",
        "anything": "else",
    }
    audit = parse_audit(payload)
    assert audit.serial == "123456" and audit.read_at == datetime(2026, 11, 29, 10, 15)  # naive: machine time
    assert set(audit.columns) == {"10", "11"}
    assert audit.columns["10"].counters.value_total == 1050 and audit.columns["11"].counters.vends_total is None
    assert audit.checksum_valid is False and audit.sha256 == "0123abcd" * 8
    assert parse_audit({**payload, "read_at": "2026-11-29T10:15:00+01:00"}).read_at == datetime(
        2026, 11, 29, 9, 15, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"columns": "x"}, "payload.columns"),
        ({"read_at": "yesterday"}, "payload.read_at"),
        ({"columns": [{"selection": "1", "vends_total": [1]}]}, "payload.columns[0].vends_total"),
        ({"totals": {"value": "lots"}}, "payload.totals.value"),
    ],
)
def test_bad_audits_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_audit({"machine": {"serial": "1"}, "columns": [], **change})
    assert caught.value.field == field


def test_gate_rejects_only_vending_payloads() -> None:
    gate = PayloadGate()
    at = datetime(2026, 11, 29, tzinfo=UTC)
    other = EventIn(event_id="e1", type="device.heartbeat", occurred_at=at, payload={"kind": "nonsense"})
    assert gate.check(tenant_id="t", event=other) is other
    bad = EventIn(event_id="e2", type="vending.telemetry", occurred_at=at, payload={"kind": "nonsense"})
    with pytest.raises(InvalidInput):
        gate.check(tenant_id="t", event=bad)
