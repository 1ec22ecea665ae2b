"""The ``dex`` decoder: one audit → one ``vending.dex_audit`` envelope with a deterministic id."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from tests.unit.vending.dex.samples import KIKKO_70, KIKKO_71, sample
from tradeoff.core.errors import InvalidInput
from tradeoff.core.events import MAX_PAYLOAD_BYTES
from tradeoff.platform.ingest.decoders import default_registry
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.validation import validate_event
from tradeoff.privacy.scrub import scrub
from tradeoff.vending.dex.decoder import DexDecoder, fit_payload, grouped_digest, register_decoders

RECEIVED = datetime(2026, 11, 29, 12, tzinfo=UTC)


def message(body: bytes, *, tenant: str = "t1", source: str | None = "vm-7") -> RawMessage:
    return RawMessage(body=body, transport="http", tenant_id=tenant, received_at=RECEIVED, source=source)


def envelope(body: bytes, **kwargs: Any) -> dict[str, Any]:
    [candidate] = DexDecoder().decode(message(body, **kwargs))
    assert candidate.raw == body
    data: dict[str, Any] = candidate.data
    return data


def test_envelope_is_a_valid_event_with_the_parse_json_as_payload() -> None:
    raw = sample(KIKKO_70)
    data = envelope(raw)
    event = validate_event(data, bound_source="vm-7")
    assert (event.type, event.source, event.schema_version) == ("vending.dex_audit", "vm-7", 1)
    assert event.occurred_at == datetime(2019, 12, 30, 14, 49, 6, tzinfo=UTC)
    assert event.payload["machine"]["serial"] == "NEC01190360"
    assert event.payload["sha256"].replace(":", "") == hashlib.sha256(raw).hexdigest()
    assert event.payload["size_bytes"] == len(raw)
    assert len(event.payload["columns"]) == 16


def test_event_id_is_deterministic_per_tenant_and_content() -> None:
    first, again = envelope(sample(KIKKO_70)), envelope(sample(KIKKO_70), source="other-device")
    assert first["event_id"] == again["event_id"]
    assert envelope(sample(KIKKO_70), tenant="t2")["event_id"] != first["event_id"]
    assert envelope(sample(KIKKO_71))["event_id"] != first["event_id"]


def test_without_transport_source_the_machine_serial_names_the_device() -> None:
    data = envelope(sample("NW_BlueRed_Pc5461c_20191203114505.daa"), source=None)
    assert data["source"] == "dex-NEC01190468"
    assert envelope(b"ID1*A B/C\r\nVA1*1*1\r\n", source=None)["source"] == "dex-A_B_C"


def test_machine_zone_places_the_machine_clock() -> None:
    [candidate] = DexDecoder(machine_zone=ZoneInfo("Europe/Berlin")).decode(message(sample("sample.txt")))
    assert candidate.data["occurred_at"] == "2024-04-15T15:04:21+02:00"


def test_missing_read_time_falls_back_to_received_at_with_a_warning() -> None:
    data = envelope(b"ID1*SN1\r\nVA1*1*1\r\n")
    assert data["occurred_at"] == RECEIVED.isoformat()
    assert any("occurred_at is the time the audit was received" in w for w in data["payload"]["warnings"])


def test_unparseable_body_is_invalid_input_with_the_dex_error() -> None:
    with pytest.raises(InvalidInput) as caught:
        DexDecoder().decode(message(b"<html>not dex</html>"))
    assert caught.value.field == "body"
    assert caught.value.reason.startswith("not a DEX audit: line 1")


def test_register_decoders_adds_dex_once() -> None:
    registry = default_registry(10)
    register_decoders(registry)
    assert registry.has("dex")
    with pytest.raises(ValueError, match="already registered"):
        register_decoders(registry)


def test_grouped_digest_survives_the_pan_scrubber() -> None:
    pan_like = "4111111111111111" + "a" * 48  # plain hex that holds a Luhn-valid Visa number
    assert scrub({"sha256": pan_like}).changed
    grouped = grouped_digest(pan_like)
    assert scrub({"sha256": grouped}).changed is False and grouped.replace(":", "") == pan_like


def test_sample_payloads_pass_the_scrubber_unchanged() -> None:
    for name in ("rhevendors.eva_dts", "sample.txt", "sielaff.eva_dts", KIKKO_70):
        payload = envelope(sample(name))["payload"]
        assert scrub(payload).changed is False, name


def test_oversized_payload_is_trimmed_in_named_steps() -> None:
    split = {"device": "CA", "price_list": "1", "price": 100, "vends_total": 0, "value_total": 0}
    busy = {**split, "vends_total": 3, "value_total": 300}
    columns = [{"selection": str(i), "payments": [split] * 40 + [busy]} for i in range(60)]
    payload: dict[str, Any] = {"columns": columns, "events": [], "warnings": []}
    trimmed = fit_payload(payload)
    assert len(orjson.dumps(trimmed)) <= MAX_PAYLOAD_BYTES
    assert all(column["payments"] == [busy] for column in trimmed["columns"])
    assert trimmed["warnings"] == [f"payload over {MAX_PAYLOAD_BYTES} bytes: PA7 payment splits without sales left out"]
