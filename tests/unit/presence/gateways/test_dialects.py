"""Every dialect's real JSON from the research notes (§b) normalizes to one sighting record; iBeacon UUIDs
with and without dashes name the same beacon; anonymous devices keep no name and no raw address field
the privacy gate would miss."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.gateways import decode_at
from tradeoff.presence.gateways.sighting import Identity

AT = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
BLUECHARM = Identity("ibeacon", "426c7565-4368-6172-6d42-6561636f6e73/3838/4949")


def wrap(topic: str, payload: object) -> bytes:
    return orjson.dumps({"topic": topic, "payload": payload})


# -- ESPresense ------------------------------------------------------------------------------------------
ESP_TOPIC = "espresense/devices/iBeacon:426c7565-4368-6172-6d42-6561636f6e73-3838-4949/office"
ESP_BODY = (
    b'{"mac":"dd8800003777","id":"iBeacon:426c7565-4368-6172-6d42-6561636f6e73-3838-4949",'
    b'"rssi@1m":-59,"rssi":-81.10,"rxAdj":0,"rssiVar":7.42,"distance":6.58,"var":4.00,"int":2028}'
)


def test_espresense_ibeacon_with_topic() -> None:
    body = orjson.dumps({"topic": ESP_TOPIC, "payload": orjson.loads(ESP_BODY)})
    [s] = decode_at("espresense", body, source="esp-office", received_at=AT)
    assert s.identity == BLUECHARM
    assert (s.rssi, s.measured_power, s.distance_m, s.room, s.gateway) == (-81.1, -59, 6.58, "office", "esp-office")
    assert s.at == AT and s.dialect == "espresense"


def test_espresense_bare_payload_and_payload_as_string() -> None:
    [bare] = decode_at("espresense", ESP_BODY, source="esp-office", received_at=AT)
    assert bare.identity == BLUECHARM and bare.room is None and bare.receiver == "esp-office"
    [text] = decode_at("espresense", wrap(ESP_TOPIC, ESP_BODY.decode()), source="esp-office", received_at=AT)
    assert text.identity == BLUECHARM


def test_espresense_known_device_is_anonymous() -> None:
    payload = {
        "mac": "eeede852bd0b",
        "id": "known:eeede852bd0b",
        "rssi@1m": -71,
        "rssi": -37.1,
        "rxAdj": 0,
        "rssiVar": 7.32,
        "distance": 0.06,
        "var": 0,
        "close": True,
        "int": 1101,
    }
    [s] = decode_at(
        "espresense", wrap("espresense/devices/known:eeede852bd0b/room_1", payload), source="n", received_at=AT
    )
    assert s.identity == Identity("device", "eeede852bd0b", "known")
    assert s.room == "room_1" and s.rssi == -37.1
    assert s.to_payload()["identity"] == {"kind": "device", "device_mac": "eeede852bd0b", "device_class": "known"}


def test_espresense_legacy_and_home_assistant_shapes() -> None:
    legacy = (
        b'{"id":"bc7e8b2e9a71","idType":55,"rssi@1m":-71,"rssi":-95,"raw":4.85,"distance":5.18,"speed":-0.02,'
        b'"mac":"bc7e8b2e9a71","interval":2800}'
    )
    [s] = decode_at("espresense", legacy, source="n", received_at=AT)
    assert s.identity == Identity("device", "bc7e8b2e9a71", "mac") and s.rssi == -95 and s.distance_m == 5.18
    [ha] = decode_at(
        "espresense", b'{"id":"123testid","name":"Test Device","distance":5.678}', source="n", received_at=AT
    )
    assert ha.identity.kind == "device" and ha.rssi is None and ha.distance_m == 5.678
    assert "Test Device" not in orjson.dumps(ha.to_payload()).decode()


@pytest.mark.parametrize(
    ("raw_id", "expected"),
    [
        ("iBeacon:426c7565436861726d426561636f6e73-3838-4949", BLUECHARM),  # no dashes
        ("iBeacon:426C7565-4368-6172-6D42-6561636F6E73-3838-4949", BLUECHARM),  # upper case
        (
            "altBeacon:2f234454-cf6d-4a0f-adf2-f4911ba9ffa6-1-2",
            Identity("altbeacon", "2f234454-cf6d-4a0f-adf2-f4911ba9ffa6/1/2"),
        ),
        ("eddy:12345678901234678901-000000000001", Identity("eddystone", "12345678901234678901/000000000001")),
        ("apple:1007:9-26", None),
        ("msft:cdp:0109", None),
        ("name:Jane's iPhone", None),
    ],
)
def test_espresense_ids(raw_id: str, expected: Identity | None) -> None:
    payload = {"mac": "5a1b2c3d4e5f", "id": raw_id, "rssi": -70}
    [s] = decode_at("espresense", orjson.dumps(payload), source="n", received_at=AT)
    if expected is None:
        assert s.identity.kind == "device" and s.identity.id == "5a1b2c3d4e5f"  # the MAC, not the label
        assert "Jane" not in orjson.dumps(s.to_payload()).decode()
    else:
        assert s.identity == expected


def test_espresense_non_sighting_topics_yield_nothing() -> None:
    assert decode_at("espresense", wrap("espresense/rooms/office/status", "online"), source="n", received_at=AT) == []
    telemetry = wrap("espresense/rooms/office/telemetry", {"ip": "10.0.0.5", "uptime": 5})
    assert decode_at("espresense", telemetry, source="n", received_at=AT) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b'["x"]', "payload"),
        (b'{"rssi":-70}', "id"),
        (b'{"id":"abc"}', "rssi"),
        (b'{"id":"abc","rssi":"loud"}', "rssi"),
        (b'{"id":"abc","rssi":-500}', "rssi"),
        (b'{"id":"abc","rssi":true}', "rssi"),
        (b'{"id":"iBeacon:nothex-1-2","rssi":-70}', "uuid"),
        (b'{"id":"iBeacon:426c7565436861726d426561636f6e73-70000-1","rssi":-70}', "major"),
        (b'{"id":"abc","rssi":-70,"distance":-1}', "distance"),
        (b'{"topic":"","payload":{}}', "topic"),
    ],
)
def test_espresense_bad_input_names_the_field(body: bytes, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_at("espresense", body, source="n", received_at=AT)
    assert caught.value.field == field


# -- OpenMQTTGateway / Theengs ----------------------------------------------------------------------------
def test_omg_old_format() -> None:
    body = wrap(
        "home/OMG_ESP32_BLE/BTtoMQTT/45F68A7686C5",
        {"id": "45:F6:8A:76:86:C5", "rssi": -55, "txpower": 12, "distance": 0.495572},
    )
    [s] = decode_at("omg", body, source="gw-1", received_at=AT)
    assert s.identity == Identity("device", "45f68a7686c5", "mac")
    assert (s.rssi, s.tx_power, s.measured_power, s.distance_m, s.room) == (-55, 12, None, 0.495572, "OMG_ESP32_BLE")


def test_omg_named_device_keeps_no_name() -> None:
    payload = {"id": "59:D6:88:02:47:B8", "name": "[LG] webOS TV OLED65C7V", "rssi": -63, "distance": 1.602966}
    [s] = decode_at("omg", orjson.dumps(payload), source="gw-1", received_at=AT)
    assert s.identity.kind == "device" and "webOS" not in orjson.dumps(s.to_payload()).decode()


def test_theengs_ibeacon_uuid_without_dashes() -> None:
    payload = {
        "id": "DD:88:00:00:37:77",
        "rssi": -80,
        "brand": "GENERIC",
        "model": "iBeacon",
        "model_id": "IBEACON",
        "type": "BCON",
        "mfid": "4c00",
        "uuid": "426c7565436861726d426561636f6e73",
        "major": 3838,
        "minor": 4949,
        "txpower": -59,
    }
    [s] = decode_at("omg", wrap("home/TheengsGateway/BTtoMQTT/DD8800003777", payload), source="gw", received_at=AT)
    assert s.identity == BLUECHARM
    assert (s.measured_power, s.tx_power, s.room) == (-59, None, "TheengsGateway")


def test_theengs_undecoded_manufacturer_data_is_decoded_here() -> None:
    apple_phone = {
        "id": "54:94:5E:9F:64:C4",
        "mac_type": 1,
        "manufacturerdata": "4c0010060319247bbc68",
        "rssi": -74,
        "txpower": 12,
    }
    [s] = decode_at("omg", wrap("home/gw1/BTtoMQTT/undecoded", apple_phone), source="gw", received_at=AT)
    assert s.identity == Identity("device", "54945e9f64c4", "mac")
    beacon = {
        "id": "D0:00:00:00:00:01",
        "manufacturerdata": "4c000215426c7565436861726d426561636f6e730efe1355c5",
        "rssi": -60,
    }
    [b] = decode_at("omg", orjson.dumps(beacon), source="gw", received_at=AT)
    assert b.identity == BLUECHARM and b.measured_power == -59
    nrf = {
        "id": "D0:00:00:00:00:02",
        "manufacturerdata": "4c000215fda50693a4e24fb1afcfc6eb07647825000100021a",
        "rssi": -60,
    }
    [n] = decode_at("omg", orjson.dumps(nrf), source="gw", received_at=AT)
    assert n.identity == Identity("ibeacon", "fda50693-a4e2-4fb1-afcf-c6eb07647825/1/2") and n.measured_power is None


def test_theengs_eddystone_service_data_and_tlm() -> None:
    uid = {
        "id": "C0:00:00:00:00:01",
        "servicedata": "00e3123456789012346789010000000000010000",
        "servicedatauuid": "0xfeaa",
        "rssi": -70,
    }
    [s] = decode_at("omg", orjson.dumps(uid), source="gw", received_at=AT)
    assert s.identity == Identity("eddystone", "12345678901234678901/000000000001")
    assert s.measured_power == -29 - 41
    tlm = {
        "id": "C0:00:00:00:00:01",
        "servicedata": "20000b1813000000146700002ac4",
        "servicedatauuid": "0xfeaa",
        "rssi": -70,
    }
    [t] = decode_at("omg", orjson.dumps(tlm), source="gw", received_at=AT)
    assert (t.battery_mv, t.temperature_c) == (2840, 19.0)


def test_theengs_decoded_sensor_and_phone() -> None:
    sensor = {
        "name": "F35285",
        "id": "F3:52:85",
        "rssi": -82,
        "brand": "BlueMaestro",
        "model": "TempoDisc",
        "model_id": "BM_V23",
        "tempc": 24.1,
        "mfr": "Blue Maestro Limited",
    }
    [s] = decode_at("omg", orjson.dumps(sensor), source="gw", received_at=AT)
    assert s.identity.kind == "device" and s.identity.device_class == "bm_v23" and s.temperature_c == 24.1
    phone = {
        "manufacturerdata": "4c0010",
        "id": "11:22:33:44:55:66",
        "rssi": -42,
        "brand": "Apple",
        "model": "Apple iPhone/iPad",
        "model_id": "APPLEDEVICE",
        "type": "TRACK",
        "track": True,
        "unlocked": False,
        "distance": 0.0334,
    }
    [p] = decode_at("omg", orjson.dumps(phone), source="gw", received_at=AT)
    assert p.identity == Identity("device", "112233445566", "appledevice")
    assert p.to_payload()["identity"]["device_mac"] == "112233445566"


def test_omg_system_topics_yield_nothing() -> None:
    assert decode_at("omg", wrap("home/gw1/SYStoMQTT", {"uptime": 1}), source="gw", received_at=AT) == []


# -- room-assistant -------------------------------------------------------------------------------------
def _room_assistant(entity_id: str) -> dict[str, object]:
    return {
        "entity": {
            "id": entity_id,
            "name": "Something Room Presence",
            "state": "living-room",
            "timeout": 180,
            "attributes": {"distance": 3.6, "lastUpdatedAt": "2021-02-28T14:17:33.141Z"},
            "distances": {
                "bedroom": {"distance": 9.4, "outOfRange": False, "lastUpdatedAt": "2021-02-28T14:17:31.000Z"},
                "living-room": {"distance": 3.6, "outOfRange": False, "lastUpdatedAt": "2021-02-28T14:17:33.141Z"},
                "kitchen": {"distance": 12.0, "outOfRange": True, "lastUpdatedAt": "2021-02-28T14:10:00.000Z"},
            },
            "measuredValues": {"living-room": {"rssi": -70.40, "measuredPower": -59}},
        },
        "diff": [{"path": "/distances/living-room", "oldValue": {"distance": 3.9}, "newValue": {"distance": 3.6}}],
        "hasAuthority": True,
    }


def test_room_assistant_one_sighting_per_room_in_range() -> None:
    topic = "room-assistant/entity/living-room/bluetooth-low-energy-presence-sensor/ble-some-id"
    sightings = decode_at("room-assistant", wrap(topic, _room_assistant("ble-some-id")), source="ra", received_at=AT)
    assert [s.room for s in sightings] == ["bedroom", "living-room"]  # kitchen is out of range
    bedroom, living = sightings
    assert living.rssi == -70.4 and living.measured_power == -59 and living.distance_m == 3.6
    assert living.at == datetime(2021, 2, 28, 14, 17, 33, 141000, tzinfo=UTC)
    assert bedroom.rssi is None and bedroom.distance_m == 9.4
    assert living.identity == Identity("device", "some-id", "unknown")
    assert "Something" not in orjson.dumps(living.to_payload()).decode()


@pytest.mark.parametrize(
    "entity_id",
    ["ble-426c7565436861726d426561636f6e73-3838-4949", "ble-426c7565-4368-6172-6d42-6561636f6e73-3838-4949"],
)
def test_room_assistant_ibeacon_ids(entity_id: str) -> None:
    [_, living] = decode_at("room-assistant", orjson.dumps(_room_assistant(entity_id)), source="ra", received_at=AT)
    assert living.identity == BLUECHARM


def test_room_assistant_other_entities_yield_nothing() -> None:
    topic = "room-assistant/entity/living-room/binary-sensor/door"
    assert decode_at("room-assistant", wrap(topic, {"entity": {"id": "door"}}), source="ra", received_at=AT) == []


def test_room_assistant_bad_time() -> None:
    doc = _room_assistant("ble-x")
    doc["entity"]["distances"]["bedroom"]["lastUpdatedAt"] = "yesterday"  # type: ignore[index]
    with pytest.raises(InvalidInput) as caught:
        decode_at("room-assistant", orjson.dumps(doc), source="ra", received_at=AT)
    assert caught.value.field == "entity.distances.bedroom.lastUpdatedAt"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-300, 300) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=40), st.sampled_from(["iBeacon:x-1-2", "eddy:00-11", "altBeacon:a-b-c"])),
        "mac": st.text(max_size=14),
        "rssi": JSON,
        "distance": JSON,
        "rssi@1m": JSON,
        "txpower": JSON,
        "model_id": st.sampled_from(["IBEACON", "APPLEDEVICE", ""]),
        "uuid": JSON,
        "major": JSON,
        "manufacturerdata": st.text("0123456789abcdef", max_size=60),
        "servicedata": st.text("0123456789abcdef", max_size=44),
        "servicedatauuid": st.just("0xfeaa"),
        "entity": JSON,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["espresense", "omg", "room-assistant"]), st.one_of(FIELDS, JSON))
def test_any_json_gives_sightings_or_a_named_error(dialect: str, payload: object) -> None:
    try:
        body = orjson.dumps(payload)
    except (TypeError, orjson.JSONEncodeError):
        return
    try:
        sightings = decode_at(dialect, body, source="n", received_at=AT)
    except InvalidInput as exc:
        assert exc.field
    else:
        for s in sightings:
            assert s.rssi is not None or s.distance_m is not None
