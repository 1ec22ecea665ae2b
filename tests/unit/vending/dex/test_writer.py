"""``write_dex`` produces valid audits that parse back to the same facts."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeoff.vending.dex import AuditInput, ColumnInput, parse_dex, write_dex

EXAMPLE = AuditInput(
    serial="SIM000123",
    model="Snack 5000",
    read_at=datetime(2026, 11, 29, 9, 30, 5),
    previous_read_at=datetime(2026, 11, 28, 9, 0),
    read_counter=71,
    columns=(
        ColumnInput("A1", price=150, vends_total=12, value_total=1800, product="Cola 0,33l"),
        ColumnInput("A2", price=200, vends_total=0, value_total=0),
        ColumnInput("10", price=95, vends_total=3, value_total=285, product="Caf\xe9 cr\xe8me"),
    ),
)


def test_written_audit_is_crlf_with_valid_incl_checksum_and_segment_count() -> None:
    raw = write_dex(EXAMPLE)
    assert raw.count(b"\r\n") == raw.count(b"\n") and raw.endswith(b"DXE*1*1\r\n")
    audit = parse_dex(raw)
    assert (audit.checksum.valid, audit.checksum.variant, audit.checksum.line_ends_normalized) == (True, "incl", False)
    assert audit.warnings == () and audit.truncated is False
    assert audit.totals is not None and (audit.totals.vends, audit.totals.value) == (15, 2085)
    assert (audit.currency, audit.decimals) == ("EUR", 2)


def test_round_trip_example() -> None:
    assert AuditInput.from_audit(parse_dex(write_dex(EXAMPLE))) == EXAMPLE


_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="*"), min_size=1, max_size=12
).filter(lambda text: text == text.strip() and text.isprintable())
_COUNT = st.integers(min_value=0, max_value=10**9)
_MOMENT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2069, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)


@st.composite
def audits(draw: st.DrawFn) -> AuditInput:
    selections = draw(st.lists(_TEXT, min_size=1, max_size=8, unique=True))
    columns = tuple(
        ColumnInput(selection, draw(_COUNT), draw(_COUNT), draw(_COUNT), draw(st.none() | _TEXT))
        for selection in selections
    )
    return AuditInput(
        serial=draw(_TEXT),
        model=draw(st.none() | _TEXT),
        read_at=draw(_MOMENT),
        previous_read_at=draw(st.none() | _MOMENT),
        read_counter=draw(_COUNT),
        columns=columns,
        currency=draw(st.sampled_from(["EUR", "USD", "CHF", "XTS"])),
        decimals=draw(st.integers(min_value=0, max_value=3)),
    )


@settings(max_examples=100, deadline=None)
@given(audits())
def test_round_trip_property(audit: AuditInput) -> None:
    parsed = parse_dex(write_dex(audit))
    assert parsed.checksum.valid is True
    assert AuditInput.from_audit(parsed) == audit


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"serial": ""}, "serial"),
        ({"serial": "A*B"}, "serial"),
        ({"model": " padded"}, "model"),
        ({"columns": ()}, "columns"),
        ({"columns": (ColumnInput("1", -1, 0, 0),)}, "columns[0].price"),
        ({"columns": (ColumnInput("1", 1, 0, 0, product="\u20ac"),)}, "columns[0].product"),
        ({"columns": (ColumnInput("1", 1, 0, 0), ColumnInput("1", 1, 0, 0))}, "columns"),
        ({"currency": "eur"}, "currency"),
        ({"read_at": datetime(1999, 1, 1)}, "read_at"),
    ],
)
def test_bad_input_names_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(field) + ":"):
        write_dex(replace(EXAMPLE, **change))  # type: ignore[arg-type]
