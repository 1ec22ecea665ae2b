"""Every shared real audit parses with the machine, columns and checksum status the data README states."""

from __future__ import annotations

import pytest

from tests.unit.vending.dex.samples import KIKKO_70, KIKKO_71, all_samples, sample
from tradeoff.vending.dex import parse_dex

# file, serial, columns, checksum present, valid, variant, line ends normalized (LF files), truncated
EXPECTED = [
    ("animo.eva_dts", "ANIKraftver", 24, True, True, "incl", True, False),
    ("rhevendors.eva_dts", "RHV0000000000", 18, True, True, "incl", True, False),
    ("sielaff.eva_dts", "SIE90517939", 0, False, None, None, False, True),
    (KIKKO_70, "NEC01190360", 16, True, True, "excl", False, False),
    (KIKKO_71, "NEC01190360", 16, True, True, "excl", False, False),
    ("NW_BlueRed_Pc54601_20191206094813.daa", "NEC01190392", 20, True, True, "incl", False, False),
    ("NW_BlueRed_Pc5461c_20191203114505.daa", "NEC01190468", 20, True, True, "incl", False, False),
    ("sample.txt", "JOF", 36, True, True, "incl", True, False),
    ("audit_1.txt", "FAG11743", 10, False, None, None, False, False),
]


def test_the_table_covers_every_shared_file() -> None:
    assert sorted(path.name for path in all_samples()) == sorted(row[0] for row in EXPECTED)


@pytest.mark.parametrize(
    ("name", "serial", "columns", "present", "valid", "variant", "normalized", "truncated"), EXPECTED
)
def test_sample_parses_as_documented(
    name: str,
    serial: str,
    columns: int,
    present: bool,
    valid: bool | None,
    variant: str | None,
    normalized: bool,
    truncated: bool,
) -> None:
    audit = parse_dex(sample(name))
    assert audit.machine.serial == serial
    assert audit.machine.serial_source == "ID101"
    assert len(audit.columns) == columns
    assert (audit.checksum.present, audit.checksum.valid, audit.checksum.variant) == (present, valid, variant)
    assert audit.checksum.line_ends_normalized is normalized
    assert audit.truncated is truncated
    assert audit.read_at is not None
    doc = audit.to_json()
    assert doc["checksum"]["valid"] is valid and doc["truncated"] is truncated
    assert len({column["selection"] for column in doc["columns"]}) == columns


def test_truncated_and_checksumless_files_say_so_in_warnings() -> None:
    sielaff = parse_dex(sample("sielaff.eva_dts"))
    assert any("truncated" in warning and "DXE" in warning for warning in sielaff.warnings)
    assert "line 1: 1 segment(s) before DXS ignored (MC5)" in sielaff.warnings
    fag = parse_dex(sample("audit_1.txt"))
    assert any("no G85 checksum" in warning for warning in fag.warnings)
    assert "line 164: 1 segment(s) after DXE ignored (XX1)" in fag.warnings


def test_kikko_pair_is_one_machine_read_twice_with_no_sales_between() -> None:
    first, second = parse_dex(sample(KIKKO_70)), parse_dex(sample(KIKKO_71))
    assert first.machine.serial == second.machine.serial == "NEC01190360"
    assert first.machine.comm_id == second.machine.comm_id == "NEC1190360"
    assert first.reads is not None and second.reads is not None
    assert (first.reads.count, second.reads.count) == (70, 71)
    assert second.reads.previous_at == first.reads.at == first.read_at == "2019-12-30T14:49:06"
    assert [c.selection for c in first.columns] == [c.selection for c in second.columns]
    # PA201 is empty on this machine (PA2***<since reset>*<value>): both audits agree that it is absent,
    # and the counters it does write are unchanged between the reads.
    assert all(c.vends_total is None for c in first.columns + second.columns)
    deltas = [b.vends_since_reset - a.vends_since_reset for a, b in zip(first.columns, second.columns, strict=True)]  # type: ignore[operator]
    assert deltas == [0] * 16
    assert sum(c.vends_since_reset or 0 for c in first.columns) == 1890


def test_kikko_shifted_pa1_takes_selection_from_pa102_and_price_from_pa103() -> None:
    audit = parse_dex(sample(KIKKO_70))
    assert [c.selection for c in audit.columns] == [str(n) for n in range(1, 17)]
    eight = audit.column("8")
    assert eight is not None and (eight.price, eight.product) == (100, None)
    assert audit.column("1") is not None and audit.column("1").price == 5  # type: ignore[union-attr]
    assert any("PA101 empty in 16 PA1" in warning for warning in audit.warnings)


def test_jofemar_sample_fields() -> None:
    audit = parse_dex(sample("sample.txt"))
    assert (audit.currency, audit.decimals, audit.read_at) == ("EUR", 2, "2024-04-15T15:04:21")
    assert audit.totals is not None and (audit.totals.vends, audit.totals.value) == (423, 143500)
    assert audit.cash is not None and audit.cash.value == 128250
    assert audit.cashless is not None and audit.cashless.vends == 41
    assert audit.control_board is not None and audit.control_board.serial == "JSD006556"
    ten = audit.column("10")
    assert ten is not None
    assert (ten.price, ten.product, ten.vends_total, ten.value_total) == (750, "0", 4, 3000)
    assert (ten.free_vends, ten.free_vends_since_reset) == (2, 0)
    assert [(p.device, p.vends_total, p.value_total) for p in ten.payments] == [("CA", 3, 2250), ("DA", 1, 750)]
    assert sum(c.value_total or 0 for c in audit.columns) == sum(
        p.value_total or 0 for c in audit.columns for p in c.payments
    )


def test_rheavendors_products_and_latin1_concerto_names() -> None:
    rhv = parse_dex(sample("rhevendors.eva_dts"))
    first = rhv.columns[0]
    assert (first.selection, first.product, first.price, first.vends_total) == ("1", "KAFFEE SCHWARZ BOHNE", 50, 602)
    assert len(first.payments) == 8
    concerto = parse_dex(sample("NW_BlueRed_Pc5461c_20191203114505.daa"))
    assert concerto.column("2") is not None and concerto.column("2").product == "espresso"  # type: ignore[union-attr]
    assert concerto.machine.model == "CONCERTO"


def test_fag_events_and_reads() -> None:
    audit = parse_dex(sample("audit_1.txt"))
    assert audit.read_at_source == "EA3" and audit.read_at == "2020-12-17T09:14:00"
    assert audit.reads is not None and audit.reads.previous_at == "2020-12-10T09:16:00"
    assert audit.events[0].code == "OCF_OFF" and audit.events[0].at == "2020-12-10T09:17:00"
    assert len(audit.events) == 27
    assert audit.currency == "EUR"  # ID4*2*0*978: the numeric code sits in ID403 here


def test_kikko_resaved_with_lf_and_more_capture_junk_still_verifies() -> None:
    raw = sample(KIKKO_70).replace(b"\r\n", b"\n") + b"<AAAA|BBBB><AAAA|BBBB>"
    audit = parse_dex(raw)
    assert (audit.checksum.valid, audit.checksum.variant, audit.checksum.line_ends_normalized) == (True, "excl", True)
    assert len(audit.columns) == 16 and audit.truncated is False


def test_event_counters_read_the_activity_flag() -> None:
    concerto = parse_dex(sample("NW_BlueRed_Pc54601_20191206094813.daa")).event_counters
    assert len(concerto) == 15
    assert concerto[0].code == "EDI_5" and concerto[0].active == "0" and concerto[0].count is None
