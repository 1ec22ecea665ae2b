"""beacontools (the reference parser) and ours agree on every frame both read; it has no AltBeacon and
keeps TLM's SEC_CNT in tenths of a second. Random ids and powers via hypothesis."""

from __future__ import annotations

from beacontools import parse_packet  # imports without warnings (checked under filterwarnings=error)
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeoff.presence.ble import (
    EddystoneTLMFrame,
    EddystoneUIDFrame,
    EddystoneURLFrame,
    IBeaconFrame,
    decode_advertisement,
)


def _ibeacon(uuid: bytes, major: int, minor: int, power: int) -> bytes:
    return (
        bytes.fromhex("0201061aff4c000215")
        + uuid
        + major.to_bytes(2, "big")
        + minor.to_bytes(2, "big")
        + (power & 0xFF).to_bytes(1, "big")
    )


@settings(max_examples=60, deadline=None)
@given(
    st.binary(min_size=16, max_size=16),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.integers(-127, -1),
)
def test_ibeacon_agrees(uuid: bytes, major: int, minor: int, power: int) -> None:
    raw = _ibeacon(uuid, major, minor, power)
    ours = decode_advertisement(raw)
    theirs = parse_packet(raw)
    assert isinstance(ours, IBeaconFrame)
    assert (ours.uuid, ours.major, ours.minor, ours.measured_power) == (
        str(theirs.uuid),
        theirs.major,
        theirs.minor,
        theirs.tx_power,
    )


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=10, max_size=10), st.binary(min_size=6, max_size=6), st.integers(-100, 20))
def test_eddystone_uid_agrees(namespace: bytes, instance: bytes, tx: int) -> None:
    raw = bytes.fromhex("0201060303aafe1716aafe00") + (tx & 0xFF).to_bytes(1, "big") + namespace + instance + b"\0\0"
    ours = decode_advertisement(raw)
    theirs = parse_packet(raw)
    assert isinstance(ours, EddystoneUIDFrame)
    assert (ours.namespace, ours.instance, ours.tx_power) == (theirs.namespace, theirs.instance, theirs.tx_power)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 0xFFFF), st.integers(-0x7FFF, 0x7FFF), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_eddystone_tlm_agrees_in_si_units(vbatt: int, temp: int, adv: int, sec: int) -> None:
    body = (
        bytes.fromhex("2000")
        + vbatt.to_bytes(2, "big")
        + temp.to_bytes(2, "big", signed=True)
        + adv.to_bytes(4, "big")
        + sec.to_bytes(4, "big")
    )
    raw = bytes.fromhex("0201060303aafe1116aafe") + body
    ours = decode_advertisement(raw)
    theirs = parse_packet(raw)
    assert isinstance(ours, EddystoneTLMFrame)
    assert ours.adv_count == theirs.advertising_count
    assert ours.sec_cnt == theirs.seconds_since_boot  # beacontools: raw tenths of a second
    assert ours.uptime_s * 10 == theirs.seconds_since_boot
    if vbatt:
        assert ours.battery_mv == theirs.voltage


def test_url_agrees_on_the_research_vector() -> None:
    raw = bytes.fromhex("0303aafe1316aafe10f8036769746875620063697472757a")
    ours = decode_advertisement(raw)
    assert isinstance(ours, EddystoneURLFrame)
    assert ours.url == parse_packet(raw).url


def test_beacontools_has_no_altbeacon() -> None:
    raw = bytes.fromhex("1bff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c500")
    assert parse_packet(raw) is None
    assert decode_advertisement(raw) is not None
