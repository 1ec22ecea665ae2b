"""Every hex vector of the research notes (§c) decodes to the documented values; malformed and
out-of-range frames fail with a ``FrameError`` naming the field."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeoff.presence.ble import (
    AltBeaconFrame,
    EddystoneEIDFrame,
    EddystoneETLMFrame,
    EddystoneTLMFrame,
    EddystoneUIDFrame,
    EddystoneURLFrame,
    FrameError,
    IBeaconFrame,
    ad_structures,
    decode_advertisement,
    decode_manufacturer_data,
    decode_service_data,
)

# (hex, expected) from beacontools tests/test_parser.py @513e1c7, theengs/decoder test_ble.cpp @d6fdd20 and
# AltBeacon/android-beacon-library BeaconTransmitterTest (the AltBeacon spec layout, mfg 0x0118).
VECTORS = [
    (
        "0201061aff4c0002154142434445464748494041424344454600010002f8",
        IBeaconFrame("41424344-4546-4748-4940-414243444546", 1, 2, -8),
    ),
    (
        "0201060303aafe1716aafe00e3123456789012346789010000000000010000",
        EddystoneUIDFrame(-29, "12345678901234678901", "000000000001"),
    ),
    ("0303aafe1316aafe10f8036769746875620063697472757a", EddystoneURLFrame(-8, "https://github.com/citruz")),
    (
        "0201060303aafe1116aafe20000b1813000000146700002ac4e4",
        EddystoneTLMFrame(battery_mv=2840, temperature_c=19.0, adv_count=5223, uptime_s=1094.8),
    ),
    ("0201060303aafe0d16aafe30e34549445f74657374", EddystoneEIDFrame(-29, b"EID_test".hex())),
    (
        "0201041aff4c0002150005000100001000800000805f9b013100026c66c3",
        IBeaconFrame("00050001-0000-1000-8000-00805f9b0131", 2, 0x6C66, -61),
    ),
    (
        "4c000215426c7565436861726d426561636f6e730efe1355c5",
        IBeaconFrame("426c7565-4368-6172-6d42-6561636f6e73", 3838, 4949, -59),
    ),
    (
        "1bff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c500",
        AltBeaconFrame(0x0118, "2f234454cf6d4a0fadf2f4911ba9ffa600010002", -59, 0),
    ),
]


@pytest.mark.parametrize(("hex_payload", "expected"), VECTORS)
def test_research_vectors_decode_to_documented_values(hex_payload: str, expected: object) -> None:
    assert decode_advertisement(hex_payload) == expected
    assert decode_advertisement(bytes.fromhex(hex_payload)) == expected


def test_bluecharm_uuid_spells_its_name_and_keys_are_canonical() -> None:
    frame = decode_advertisement("4c000215426c7565436861726d426561636f6e730efe1355c5")
    assert isinstance(frame, IBeaconFrame)
    assert bytes.fromhex(frame.uuid.replace("-", "")) == b"BlueCharmBeacons"
    assert frame.key == "426c7565-4368-6172-6d42-6561636f6e73/3838/4949"
    alt = decode_advertisement("1bff1801beac2f234454cf6d4a0fadf2f4911ba9ffa600010002c500")
    assert isinstance(alt, AltBeaconFrame)
    assert alt.key == "2f234454-cf6d-4a0f-adf2-f4911ba9ffa6/1/2"


def test_tlm_units_are_si_and_raw_counter_is_kept() -> None:
    frame = decode_advertisement("0201060303aafe1116aafe20000b1813000000146700002ac4e4")
    assert isinstance(frame, EddystoneTLMFrame)
    assert frame.sec_cnt == 10948
    assert frame.uptime_s == pytest.approx(1094.8)


def test_tlm_unsupported_values_are_none_and_negative_temperature_is_signed() -> None:
    frame = decode_service_data(0xFEAA, "2000" + "0000" + "8000" + "00000001" + "0000000a")
    assert frame == EddystoneTLMFrame(battery_mv=None, temperature_c=None, adv_count=1, uptime_s=1.0)
    cold = decode_service_data(0xFEAA, "2000" + "0bb8" + "fd80" + "00000000" + "00000000")
    assert isinstance(cold, EddystoneTLMFrame)
    assert cold.temperature_c == -2.5


def test_encrypted_tlm() -> None:
    frame = decode_service_data(0xFEAA, "2001" + "11" * 12 + "abcd" + "1234")
    assert frame == EddystoneETLMFrame(etlm="11" * 12, salt=0xABCD, mic=0x1234)


def test_uid_without_rfu_bytes_is_accepted() -> None:
    frame = decode_service_data(0xFEAA, "00e3" + "12345678901234678901" + "000000000001")
    assert isinstance(frame, EddystoneUIDFrame)


def test_nrf51822_power_byte_is_rejected_unless_lenient() -> None:
    nrf = "4c000215fda50693a4e24fb1afcfc6eb07647825000100021a"
    with pytest.raises(FrameError) as caught:
        decode_advertisement(nrf)
    assert caught.value.field == "measured_power"
    lenient = decode_manufacturer_data(nrf, strict_power=False)
    assert lenient == IBeaconFrame("fda50693-a4e2-4fb1-afcf-c6eb07647825", 1, 2, None)


@pytest.mark.parametrize(
    ("hex_payload", "field"),
    [
        ("", "payload"),
        ("zz", "hex"),
        ("abc", "hex"),
        ("0201061aff4c00021541424344", "ad_structure"),  # length runs past the end
        ("020106", "payload"),  # flags only
        ("1aff4c000215" + "41" * 16 + "00010002" + "00", "measured_power"),  # 0 dBm at 1 m
        ("1bff1801beac" + "2f" * 20 + "05" + "00", "reference_rssi"),  # +5 dBm AltBeacon
        ("1aff4c000216" + "41" * 16 + "00010002" + "c5", "payload"),  # not 02 15: not an iBeacon
        ("1aff4c000215" + "41" * 16 + "0001" + "c5", "ad_structure"),
        ("0616aafe50e300", "frame_type"),
        ("0516aafe00e3", "length"),
        ("1516aafe0080" + "00" * 16, "tx_power"),  # -128 dBm at 0 m
        ("0616aafe10f804", "url_scheme"),
        ("0716aafe10f80320", "url"),  # 0x20 (space) is reserved
        ("0516aafe2002", "version"),
        ("0616aafe200000", "length"),
    ],
)
def test_malformed_frames_name_the_field(hex_payload: str, field: str) -> None:
    with pytest.raises(FrameError) as caught:
        decode_advertisement(hex_payload)
    assert caught.value.field == field, caught.value


def test_url_expansion_codes() -> None:
    assert decode_advertisement("0916aafe10f803" + "61" + "07" + "62") == EddystoneURLFrame(-8, "https://a.comb")
    assert decode_advertisement("0716aafe10f80001") == EddystoneURLFrame(-8, "http://www..org/")


def test_ad_structures_stop_at_padding_and_skip_other_types() -> None:
    payload = bytes.fromhex("020106" + "0509414243" + "0000000000")
    assert ad_structures(payload) == [(0x01, b"\x06"), (0x09, b"ABC\x00")]


def test_hex_notations() -> None:
    spaced = "4C 00 02 15 42 6C 75 65 43 68 61 72 6D 42 65 61 63 6F 6E 73 0E FE 13 55 C5"
    assert decode_advertisement(spaced) == decode_advertisement("0x" + spaced.replace(" ", "").lower())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=70))
def test_any_bytes_give_a_frame_or_a_frame_error(raw: bytes) -> None:
    with contextlib.suppress(FrameError):
        decode_advertisement(raw)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([b"\x02\x01\x06\x1a\xff\x4c\x00\x02\x15", b"\x03\x03\xaa\xfe\x17\x16\xaa\xfe\x00"]),
    st.binary(max_size=30),
)
def test_beacon_prefixes_with_any_tail(prefix: bytes, tail: bytes) -> None:
    with contextlib.suppress(FrameError):
        decode_advertisement(prefix + tail)
