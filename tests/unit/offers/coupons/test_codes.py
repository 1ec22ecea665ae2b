"""Coupon codes: round trips, forgiving input, and forged or altered codes never accepted."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeoff.core.errors import InvalidInput
from tradeoff.offers.coupons.codes import (
    ALPHABET,
    COMPACT_FORMAT,
    DEFAULT_FORMAT,
    CodeFormat,
    InvalidCode,
    make_code,
    normalize_code,
    read_code,
)

KEY = bytes(range(32))
OTHER_TENANT_KEY = bytes(range(1, 33))
ATTEMPTS = 10_000


def _accepted(code: str, fmt: CodeFormat = DEFAULT_FORMAT) -> bool:
    try:
        read_code(key=KEY, code=code, fmt=fmt)
    except InvalidCode:
        return False
    return True


def test_default_code_looks_like_a_till_code() -> None:
    code = make_code(key=KEY, serial=1)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
    assert re.fullmatch(r"\w{4}-\w{4}-\w{2}", make_code(key=KEY, serial=1, fmt=COMPACT_FORMAT))


@given(serial=st.integers(0, DEFAULT_FORMAT.max_serial))
def test_round_trip(serial: int) -> None:
    assert read_code(key=KEY, code=make_code(key=KEY, serial=serial), fmt=DEFAULT_FORMAT) == serial


@given(serial=st.integers(0, COMPACT_FORMAT.max_serial))
def test_round_trip_compact(serial: int) -> None:
    code = make_code(key=KEY, serial=serial, fmt=COMPACT_FORMAT)
    assert read_code(key=KEY, code=code, fmt=COMPACT_FORMAT) == serial


def test_typed_variants_are_read_the_same() -> None:
    code = make_code(key=KEY, serial=123_456)
    raw = code.replace("-", "")
    variants = [code.lower(), raw, " ".join(raw[i : i + 3] for i in range(0, 12, 3)), f"  {code}\t", raw.lower()]
    # Letters people type for digits: O for 0, I and L for 1.
    variants.append(raw.replace("0", "O").replace("1", "I"))
    variants.append(raw.replace("1", "l"))
    for variant in variants:
        assert read_code(key=KEY, code=variant) == 123_456, variant
        assert normalize_code(variant) == code


def test_codes_hide_the_serial_order() -> None:
    codes = [make_code(key=KEY, serial=serial) for serial in range(50)]
    assert len(set(codes)) == 50
    assert codes != sorted(codes)
    # Consecutive serials share no common 4-character prefix more often than chance would allow.
    assert sum(a[:4] == b[:4] for a, b in zip(codes, codes[1:], strict=False)) <= 1


def test_another_tenants_code_is_rejected() -> None:
    code = make_code(key=OTHER_TENANT_KEY, serial=7)
    with pytest.raises(InvalidCode):
        read_code(key=KEY, code=code)


def test_forgery_probability_is_documented() -> None:
    assert DEFAULT_FORMAT.length == 12 and DEFAULT_FORMAT.tag_bits == 35
    assert DEFAULT_FORMAT.forgery_probability == pytest.approx(2.91e-11, rel=0.01)
    assert ATTEMPTS * DEFAULT_FORMAT.forgery_probability < 1e-6
    assert COMPACT_FORMAT.length == 10 and ATTEMPTS * COMPACT_FORMAT.forgery_probability < 1e-5


@pytest.mark.parametrize("fmt", [DEFAULT_FORMAT, COMPACT_FORMAT], ids=["default", "compact"])
def test_random_codes_are_never_accepted(fmt: CodeFormat) -> None:
    rng = random.Random(20261129)
    accepted = sum(_accepted("".join(rng.choice(ALPHABET) for _ in range(fmt.length)), fmt) for _ in range(ATTEMPTS))
    assert accepted == 0


@pytest.mark.parametrize("fmt", [DEFAULT_FORMAT, COMPACT_FORMAT], ids=["default", "compact"])
def test_altered_codes_are_never_accepted(fmt: CodeFormat) -> None:
    """Each attempt takes a genuine code and changes one character (or swaps two neighbours)."""
    rng = random.Random(5)
    accepted = 0
    for attempt in range(ATTEMPTS):
        raw = make_code(key=KEY, serial=rng.randrange(fmt.max_serial + 1), fmt=fmt).replace("-", "")
        chars = list(raw)
        if attempt % 5 == 4:
            i = rng.randrange(len(chars) - 1)
            if chars[i] == chars[i + 1]:
                chars[i] = ALPHABET[(ALPHABET.index(chars[i]) + 1) % 32]
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            i = rng.randrange(len(chars))
            chars[i] = rng.choice([c for c in ALPHABET if c != chars[i]])
        altered = "".join(chars)
        assert altered != raw
        accepted += _accepted(altered, fmt)
    assert accepted == 0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ABCD-EFGH-JKM", "has 12 characters, got 11"),
        ("ABCD-EFGH-JKMNP", "has 12 characters, got 13"),
        ("ABCD-EFGH-JKMU", "'U' is not a code character"),
        ("ABCD-EFGH-JK#N", "'#' is not a code character"),
        ("", "has 12 characters, got 0"),
    ],
)
def test_malformed_input_says_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidCode) as excinfo:
        read_code(key=KEY, code=text)
    assert excinfo.value.field == "code" and reason in excinfo.value.reason


def test_a_wrong_tag_does_not_say_which_part_failed() -> None:
    raw = make_code(key=KEY, serial=3).replace("-", "")
    with pytest.raises(InvalidCode) as excinfo:
        read_code(key=KEY, code=raw[:-1] + ("0" if raw[-1] != "0" else "1"))
    assert excinfo.value.reason == "not a valid coupon code"


@pytest.mark.parametrize("serial", [-1, DEFAULT_FORMAT.max_serial + 1, True, 1.0])
def test_serial_out_of_range(serial: object) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        make_code(key=KEY, serial=serial)  # type: ignore[arg-type]
    assert excinfo.value.field == "serial"


def test_short_key_is_refused() -> None:
    with pytest.raises(InvalidInput) as excinfo:
        make_code(key=b"short", serial=1)
    assert excinfo.value.field == "key"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"serial_bits": 4, "tag_bits": 36}, "serial_bits"),
        ({"serial_bits": 30, "tag_bits": 20}, "tag_bits"),
        ({"serial_bits": 25, "tag_bits": 36}, "tag_bits"),  # 61 bits: not whole characters
        ({"group": 0}, "group"),
    ],
)
def test_unsafe_formats_are_refused(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        CodeFormat(**kwargs)
    assert excinfo.value.field == field


def test_odd_serial_width_still_round_trips() -> None:
    fmt = CodeFormat(serial_bits=21, tag_bits=34, group=5)
    for serial in (0, 1, fmt.max_serial, 777_777):
        code = make_code(key=KEY, serial=serial, fmt=fmt)
        assert len(code) == 11 + 2 and read_code(key=KEY, code=code, fmt=fmt) == serial
