"""Dead-lettered gateway messages lose device addresses and names; beacon ids and other data stay."""

from __future__ import annotations

import orjson
import pytest

from tradeoff.platform.ingest.gates import RawScrubber
from tradeoff.presence.gateways.scrub import MARKER, GatewayAddressScrubber
from tradeoff.privacy.scrub.detectors import find_macs

SCRUBBER = GatewayAddressScrubber()


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":"45:F6:8A:76:86:C5","rssi":"loud","txpower":12}',
        b'{"mac":"bc7e8b2e9a71","id":"bc7e8b2e9a71","idType":55,"rssi":"x"}',
        b'{"id":"name:Jane\'s iPhone","mac":"5a1b2c3d4e5f","rssi":-70,"name":"Jane\'s iPhone","distance":-1}',
        b'{"topic":"home/gw/BTtoMQTT/45F68A7686C5","payload":{"id":"45-F6-8A-76-86-C5","rssi":true}}',
        b'{"entity":{"id":"ble-aabbccddeeff","name":"Jane Room Presence","distances":{"x":{"distance":"?"}}}}',
        b"id=45:f6:8a:76:86:c5 garbage",
    ],
)
def test_addresses_and_names_are_removed(body: bytes) -> None:
    cleaned = SCRUBBER.scrub_raw(body).decode()
    assert not find_macs(cleaned) and "Jane" not in cleaned and "bc7e8b2e9a71" not in cleaned
    assert "5a1b2c3d4e5f" not in cleaned and "aabbccddeeff" not in cleaned and "45F68A7686C5" not in cleaned
    assert MARKER in cleaned


def test_beacon_ids_and_unrelated_data_are_kept() -> None:
    body = b'{"id":"iBeacon:426c7565-4368-6172-6d42-6561636f6e73-3838-4949","rssi":"x","rssi@1m":-59}'
    assert SCRUBBER.scrub_raw(body) == body
    pos = b'{"order_id":"A1B2C3D4E5F6A7","total":1250,"name":"Latte"}'  # 14 hex, no rssi: untouched
    assert SCRUBBER.scrub_raw(pos) == pos
    assert orjson.loads(SCRUBBER.scrub_raw(b'{"event_id":"sgt-0123456789abcdef0123"}'))["event_id"].startswith("sgt-")


def test_it_is_a_pass_through_gate_and_a_raw_scrubber() -> None:
    assert isinstance(SCRUBBER, RawScrubber)
    assert SCRUBBER.scrub_text("bad rssi for 45:F6:8A:76:86:C5") == f"bad rssi for {MARKER}"
