"""``tradeoff vending parse-dex`` through Typer's runner."""

from __future__ import annotations

from pathlib import Path

import orjson
import typer
from typer.testing import CliRunner

from tests.unit.vending.dex.samples import KIKKO_70, sample_path
from tradeoff.cli import vending_dex

app = typer.Typer()
vending_dex.register(app)


def test_parse_dex_json_has_the_documented_keys() -> None:
    result = CliRunner().invoke(app, ["parse-dex", str(sample_path(KIKKO_70)), "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert {"machine", "read_at", "currency", "decimals", "totals", "columns", "checksum", "truncated", "warnings"} <= (
        doc.keys()
    )
    assert doc["machine"]["serial"] == "NEC01190360"
    assert doc["checksum"] == {
        "present": True,
        "valid": True,
        "variant": "excl",
        "stated": "90b8",
        "computed": "90B8",
        "line_ends_normalized": False,
    }
    assert doc["totals"]["vends"] == 12862 and doc["columns"][0]["vends_since_reset"] == 129


def test_parse_dex_table_shows_columns_and_warnings() -> None:
    result = CliRunner().invoke(app, ["parse-dex", str(sample_path("sielaff.eva_dts"))])
    assert result.exit_code == 0, result.output
    assert "SIE90517939" in result.stdout and "TRUNCATED" in result.stdout and "warning" in result.stdout


def test_parse_dex_on_garbage_exits_1_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dex"
    bad.write_bytes(b"just some text\n")
    result = CliRunner().invoke(app, ["parse-dex", str(bad)])
    assert result.exit_code == 1
    assert "not a DEX audit: line 1" in result.output
