"""Parser rules on small hand-made audits: what is a warning, what is an error, and the fallbacks."""

from __future__ import annotations

import pytest

from tradeoff.vending.dex import DexError, parse_dex
from tradeoff.vending.dex.crc import crc16_arc, format_g85


def audit(*body: str, g85: str | None = "auto", end: bool = True, line_end: str = "\r\n") -> bytes:
    """An audit around ``body`` segments with a correct G85 (or the given one), SE and DXE."""
    transaction = line_end.join(["ST*001*0001", *body]) + line_end
    lines = ["DXS*XYZ0000001*VA*V0/6*1", transaction.rstrip(line_end)]
    if g85 is not None:
        lines.append("G85*" + (format_g85(crc16_arc(transaction.encode("latin-1"))) if g85 == "auto" else g85))
    if end:
        lines += [f"SE*{len(body) + 3 - (g85 is None)}*0001", "DXE*1*1"]
    return (line_end.join(lines) + line_end).encode("latin-1")


def test_clean_audit_has_no_warnings_and_a_valid_incl_checksum() -> None:
    parsed = parse_dex(audit("ID1*SN1*MODEL*1*LOC**ASSET7", "ID4*2*1978*EUR", "ID5*20260101*083000", "VA1*300*2"))
    assert parsed.warnings == ()
    assert (parsed.checksum.valid, parsed.checksum.variant) == (True, "incl")
    assert (parsed.machine.serial, parsed.machine.model, parsed.machine.asset) == ("SN1", "MODEL", "ASSET7")
    assert parsed.read_at == "2026-01-01T08:30:00" and parsed.truncated is False


def test_checksum_mismatch_is_a_warning_not_an_error() -> None:
    parsed = parse_dex(audit("ID1*SN1", "ID5*20260101*0830", g85="0000"))
    assert (parsed.checksum.present, parsed.checksum.valid, parsed.checksum.variant) == (True, False, None)
    assert any("G85 checksum mismatch: stated 0000" in warning for warning in parsed.warnings)


def test_lf_file_verifies_after_crlf_normalisation() -> None:
    crlf = audit("ID1*SN1", "ID5*20260101*0830")
    parsed = parse_dex(crlf.replace(b"\r\n", b"\n"))
    assert (parsed.checksum.valid, parsed.checksum.variant, parsed.checksum.line_ends_normalized) == (
        True,
        "incl",
        True,
    )


def test_non_numeric_value_is_null_with_a_warning_naming_line_and_element() -> None:
    parsed = parse_dex(audit("ID1*SN1", "ID5*20260101*0830", "PA1*1*12O", "PA2*x*5"))
    column = parsed.columns[0]
    assert (column.price, column.vends_total, column.value_total) == (None, None, 5)
    assert "line 5: PA102 '12O' is not a number; left empty" in parsed.warnings
    assert "line 6: PA201 'x' is not a number; left empty" in parsed.warnings


def test_bad_date_is_a_warning_and_read_at_falls_back_to_ea3() -> None:
    parsed = parse_dex(audit("ID1*SN1", "ID5*20261341*0830", "EA3*5*260102*101500"))
    assert parsed.read_at == "2026-01-02T10:15:00" and parsed.read_at_source == "EA3"
    assert any("line 4: ID501/ID502" in warning for warning in parsed.warnings)


def test_truncated_audit_is_flagged() -> None:
    parsed = parse_dex(audit("ID1*SN1", "ID5*20260101*0830", "PA1*1*50", "PA2*3*15", g85=None, end=False))
    assert parsed.truncated is True
    assert parsed.columns[0].vends_total == 3
    assert any("truncated: ends at PA2 without G85, SE, DXE" in warning for warning in parsed.warnings)


def test_serial_falls_back_to_dxs_with_a_warning() -> None:
    parsed = parse_dex(audit("ID1**MODEL", "ID5*20260101*0830"))
    assert (parsed.machine.serial, parsed.machine.serial_source) == ("XYZ0000001", "DXS01")
    assert any("using DXS01" in warning for warning in parsed.warnings)


def test_segment_count_mismatch_is_a_warning() -> None:
    raw = audit("ID1*SN1", "ID5*20260101*0830").replace(b"SE*5*", b"SE*9*")
    assert any("SE01 says 9 segments" in warning for warning in parse_dex(raw).warnings)


def test_pa_segments_group_under_their_pa1_and_orphans_warn() -> None:
    parsed = parse_dex(
        audit(
            "ID1*SN1",
            "ID5*20260101*0830",
            "PA2*9*9",
            "PA1*A1*150*Cola*10**1",
            "PA2*10*1500*2*300",
            "PA3*1**0",
            "PA4*2**1",
            "PA5*20251231*2359*4*120",
            "PA7*A1*DA*1*150*3*450*1*150",
            "PA1*A2*200",
        )
    )
    first, second = parsed.columns
    assert (first.selection, first.product, first.price, first.extra) == ("A1", "Cola", 150, ("10", "", "1"))
    assert (first.vends_total, first.value_total, first.vends_since_reset, first.value_since_reset) == (
        10,
        1500,
        2,
        300,
    )
    assert (first.test_vends, first.free_vends, first.free_vends_since_reset) == (1, 2, 1)
    assert first.sold_out is not None and (first.sold_out.last_at, first.sold_out.count) == ("2025-12-31T23:59:00", 4)
    assert first.payments[0].device == "DA" and first.payments[0].value_total == 450
    assert (second.selection, second.vends_total, second.payments) == ("A2", None, ())
    assert "line 5: PA2 before any PA1; ignored" in parsed.warnings


def test_shifted_pa1_with_text_keeps_it_as_product() -> None:
    [column] = parse_dex(audit("ID1*SN1", "ID5*20260101*0830", "PA1**7*Water")).columns
    assert (column.selection, column.price, column.product) == ("7", None, "Water")


def test_duplicate_selection_is_a_warning() -> None:
    parsed = parse_dex(audit("ID1*SN1", "ID5*20260101*0830", "PA1*1*5", "PA1*1*6"))
    assert any("selection '1' repeats" in warning for warning in parsed.warnings)


@pytest.mark.parametrize(
    ("raw", "line", "segment"),
    [
        (b"", 1, None),
        (b"hello\r\nworld\r\n", 1, None),
        (b"\x00\xff\x10garbage", 1, None),
        (b"AB*1\r\nCD*2\r\n", 1, "AB"),
        (b"DXS*X*VA*V0/6*1\r\nST*001*0001\r\nID1*S\r\n" + b"<p>an error page</p>\r\n" * 4 + b"VA1*1*1\r\n", 4, "ID1"),
    ],
)
def test_malformed_input_raises_dex_error_with_line_and_segment(raw: bytes, line: int, segment: str | None) -> None:
    with pytest.raises(DexError) as caught:
        parse_dex(raw)
    assert (caught.value.line, caught.value.segment) == (line, segment)
    assert str(caught.value).startswith(f"line {line}")


def test_a_few_noise_lines_inside_an_audit_are_skipped_with_a_warning() -> None:
    raw = audit("ID1*SN1", "ID5*20260101*0830", "PA1*1*50", "PA2*3*15").replace(b"PA2*", b"*0*0\r\nPA2*")
    parsed = parse_dex(raw)
    assert parsed.columns[0].vends_total == 3 and parsed.checksum.valid is False
    assert "line 6: not a DEX segment: '*0*0' (after PA1 (line 5)); skipped" in parsed.warnings


def test_partial_last_line_is_truncation_not_garbage() -> None:
    parsed = parse_dex(b"DXS*X*VA*V0/6*1\r\nST*001*0001\r\nID1*S\r\nVA1*1*1\r\nPA")
    assert parsed.truncated and parsed.machine.serial == "S"


def test_currency_from_numeric_code_and_unknown_code_warns() -> None:
    assert parse_dex(audit("ID1*S", "ID4*2*1840", "ID5*20260101*0830")).currency == "USD"
    unknown = parse_dex(audit("ID1*S", "ID4*2*1999", "ID5*20260101*0830"))
    assert unknown.currency is None and any("ID4 currency code '1999'" in w for w in unknown.warnings)


def test_rejects_non_bytes() -> None:
    with pytest.raises(TypeError):
        parse_dex("ID1*S")  # type: ignore[arg-type]


def test_capture_annotations_inside_the_data_are_tolerated() -> None:
    raw = b"DXS*X*VA*V0/6*1\r\nST*001*0001\r\n<ACK>\r\nID1*S\r\n<0x10>VA1*10*1\r\nDXE*1*1\r\n"
    parsed = parse_dex(raw)
    assert parsed.machine.serial == "S" and parsed.totals is not None and parsed.totals.vends == 1


def test_a_second_audit_after_dxe_is_one_warning() -> None:
    one = audit("ID1*SN1", "ID5*20260101*0830", *[f"PA1*{i}*5" for i in range(30)])
    parsed = parse_dex(one + one)
    assert parsed.machine.serial == "SN1" and len(parsed.columns) == 30
    [outside] = [w for w in parsed.warnings if "after DXE" in w]
    assert outside.endswith("segment(s) after DXE ignored (DXS, ST, ID1, ID5, PA1)")


def test_warnings_are_capped() -> None:
    parsed = parse_dex(audit("ID1*SN1", "ID5*20260101*0830", *[f"PA1*{i}*x" for i in range(150)]))
    assert len(parsed.warnings) == 101 and parsed.warnings[-1] == "... and 50 more warnings"
