"""The dialects as platform decoders: registered by name, canonical ``presence.sighting`` envelopes that
validate, ids that make a redelivery a duplicate, and anonymous devices that reach storage only as daily
tokens (the privacy gate's job, checked here end to end without a database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import orjson
import pytest

from tests.unit.privacy.fakes import FakeConsent, MemoryKeys
from tradeoff.core.clock import FixedClock
from tradeoff.platform.ingest.decoders import DecoderRegistry, default_registry
from tradeoff.platform.ingest.message import RawMessage
from tradeoff.platform.ingest.validation import validate_event
from tradeoff.presence.gateways import GatewayDecoder, Sighting, privacy_keyer, register_decoders
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.scrub.detectors import find_macs
from tradeoff.privacy.subjects import Pseudonymizer

AT = datetime(2026, 11, 29, 10, 0, 3, tzinfo=UTC)
ESP = (
    b'{"mac":"dd8800003777","id":"iBeacon:426c7565-4368-6172-6d42-6561636f6e73-3838-4949","rssi@1m":-59,"rssi":-81.10}'
)
PHONE = b'{"mac":"5a1b2c3d4e5f","id":"apple:1007:9-26","rssi":-66.5,"name":"Jane\'s iPhone"}'
OMG_PHONE = b'{"id":"5A:1B:2C:3D:4E:5F","rssi":-66,"txpower":12}'


def message(body: bytes, *, at: datetime = AT, source: str = "esp-office", tenant: str = "t1") -> RawMessage:
    return RawMessage(body=body, transport="mqtt", tenant_id=tenant, received_at=at, source=source)


def registry() -> DecoderRegistry:
    reg = default_registry(100)
    register_decoders(reg)
    return reg


def test_registered_names() -> None:
    assert {"espresense", "omg", "room-assistant"} <= set(registry().names())


def test_envelope_validates_as_a_presence_sighting() -> None:
    [candidate] = registry().get("espresense").decode(message(ESP))
    event = validate_event(candidate.data, bound_source="esp-office")
    assert event.type == "presence.sighting" and event.source == "esp-office" and event.occurred_at == AT
    assert event.event_id.startswith("sgt-")
    back = Sighting.from_event(payload=event.payload, occurred_at=event.occurred_at, source=event.source)
    assert back.identity.key == "ibeacon:426c7565-4368-6172-6d42-6561636f6e73/3838/4949"
    assert back.rssi == -81.1 and back.measured_power == -59


def test_redelivery_is_a_duplicate_and_new_readings_are_not() -> None:
    decoder = registry().get("espresense")
    first = decoder.decode(message(ESP))[0].data["event_id"]
    assert decoder.decode(message(ESP, at=AT + timedelta(seconds=5)))[0].data["event_id"] == first  # same window
    other_reading = ESP.replace(b"-81.10", b"-80.90")
    assert decoder.decode(message(other_reading))[0].data["event_id"] != first
    assert decoder.decode(message(ESP, at=AT + timedelta(seconds=30)))[0].data["event_id"] != first
    assert decoder.decode(message(ESP, source="esp-hall"))[0].data["event_id"] != first


def test_payload_time_makes_the_id_exact() -> None:
    body = orjson.dumps(
        {
            "entity": {
                "id": "ble-426c7565436861726d426561636f6e73-3838-4949",
                "distances": {"hall": {"distance": 2.0, "outOfRange": False, "lastUpdatedAt": "2026-11-29T09:59:58Z"}},
            }
        }
    )
    decoder = registry().get("room-assistant")
    ids = {decoder.decode(message(body, at=AT + timedelta(minutes=m)))[0].data["event_id"] for m in (0, 5, 60)}
    assert len(ids) == 1  # redelivered an hour later: still the same event


def test_device_address_never_enters_the_event_id() -> None:
    plain = GatewayDecoder("omg", registry().get("omg").parser)  # type: ignore[attr-defined]
    other = OMG_PHONE.replace(b"5A:1B", b"77:88")
    assert plain.decode(message(OMG_PHONE))[0].data["event_id"] == plain.decode(message(other))[0].data["event_id"]

    def keyer(tenant_id: str, day: date, address: str) -> str:
        return f"k({tenant_id},{day},{address[:4]})"

    keyed = GatewayDecoder("omg", plain.parser, keyer=keyer)
    assert keyed.decode(message(OMG_PHONE))[0].data["event_id"] != keyed.decode(message(other))[0].data["event_id"]
    assert "5a1b2c3d4e5f" not in keyed.decode(message(OMG_PHONE))[0].data["event_id"]


def test_arrays_of_wrapped_messages() -> None:
    body = orjson.dumps(
        [
            {"topic": "espresense/devices/x/office", "payload": orjson.loads(ESP)},
            {"topic": "espresense/rooms/office/status", "payload": "online"},
            {"topic": "espresense/devices/y/hall", "payload": orjson.loads(PHONE)},
        ]
    )
    candidates = registry().get("espresense").decode(message(body))
    assert [c.data["payload"]["room"] for c in candidates] == ["office", "hall"]


def test_privacy_keyer_is_keyed_daily_and_per_tenant() -> None:
    keyer = privacy_keyer(MemoryKeys())
    today = keyer("t1", AT.date(), "5a1b2c3d4e5f")
    assert today == keyer("t1", AT.date(), "5a1b2c3d4e5f")
    assert today != keyer("t1", AT.date() + timedelta(days=1), "5a1b2c3d4e5f")
    assert today != keyer("t2", AT.date(), "5a1b2c3d4e5f")
    assert "5a1b" not in today


RA_PHONE = (
    b'{"entity":{"id":"ble-5a1b2c3d4e5f","name":"Jane","distances":{"hall":{"distance":2.5,"outOfRange":false}}}}'
)
HA_DEVICE = b'{"id":"123testid","name":"Test Device","distance":5.678}'


@pytest.mark.parametrize(
    ("name", "body"),
    [("espresense", PHONE), ("omg", OMG_PHONE), ("room-assistant", RA_PHONE), ("espresense", HA_DEVICE)],
)
def test_anonymous_device_is_stored_only_as_a_daily_token(name: str, body: bytes) -> None:
    gate = PrivacyGate(consent=FakeConsent(), pseudonyms=Pseudonymizer(MemoryKeys()), clock=FixedClock(AT))
    decoder = registry().get(name)

    def stored(at: datetime) -> dict[str, object]:
        [candidate] = decoder.decode(message(body, at=at))
        event = gate.check(tenant_id="t1", event=validate_event(candidate.data, bound_source="esp-office"))
        assert event is not None
        return event.payload

    today, tomorrow = stored(AT), stored(AT + timedelta(days=1))
    text = orjson.dumps(today).decode()
    assert "5a1b2c3d4e5f" not in text.lower() and not find_macs(text) and "Jane" not in text
    assert "123testid" not in text and "Test Device" not in text
    identity = today["identity"]
    assert isinstance(identity, dict)
    token = identity.get("device_mac") or identity.get("device_id")
    assert str(token).startswith(("tokd_mac_", "tokd_device_"))
    assert stored(AT + timedelta(hours=1))["identity"] == today["identity"]  # countable within the day
    assert tomorrow["identity"] != today["identity"]  # not linkable across days
