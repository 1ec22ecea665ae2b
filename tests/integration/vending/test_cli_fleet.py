"""``tradeoff vending`` fleet commands against a real SQLite database: files in, fills, stock out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from tradeoff.cli import app as cli_app
from tradeoff.platform import tenancy
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade


@pytest.fixture
def cli(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The CLI on SQLite (the services it calls are covered on both backends elsewhere)."""
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        tenancy.create_tenant(conn, slug="vendco", name="VendCo", kind="vending_operator")
    engine.dispose()
    monkeypatch.setenv("TRADEOFF_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("TRADEOFF_VAR_DIR", str(tmp_path))

    def run(*args: str, ok: bool = True) -> Any:
        result = CliRunner().invoke(cli_app, ["vending", *args, "--tenant", "vendco"])
        assert (result.exit_code == 0) == ok, result.output
        return orjson.loads(result.stdout) if ok and "--json" in args else result.output

    return run


def test_fleet_from_files_then_fill_and_stock(cli: Any, tmp_path: Path) -> None:
    products = tmp_path / "products.csv"
    products.write_text("sku,name,case_size\ncola,Cola 0.33,24\nwater,Water,12\n")
    assert len(cli("products", "import", str(products), "--json")) == 2
    cli("depots", "add", "North", "--lat", "52.5", "--lon", "13.4", "--timezone", "Europe/Berlin")
    cli("trucks", "add", "T1", "--depot", "North", "--capacity-units", "600")
    machines = tmp_path / "machines.json"
    hours, zone = {"mon": [["07:00", "19:00"]]}, "Europe/Berlin"
    record = {"name": "Lobby", "lat": 52.52, "lon": 13.41, "dex_serial": "SN-1", "depot": "North"}
    machines.write_bytes(orjson.dumps([{**record, "timezone": zone, "opening_hours": hours}]))
    assert cli("machines", "import", str(machines), "--json")[0]["opening_hours"] == hours
    planogram = tmp_path / "planogram.csv"
    planogram.write_text("selection,product,capacity,par,threshold_pct\n10,cola,12,10,30\n11,water,12,,25\n")
    assert [c["par"] for c in cli("planogram", "set", "Lobby", str(planogram), "--json")] == [10, 12]
    fills = cli("fill", "SN-1", "--selection", "10", "--units", "8", "--json")
    assert fills[0]["level_after"] == 8
    cli("fill", "Lobby", "--selection", "11", "--to-par", "--at", "2026-11-29T01:00")
    assert "--at" in cli("fill", "Lobby", "--selection", "11", "--to-par", "--at", "9 o'clock", ok=False)
    stock = {c["selection"]: c for c in cli("stock", "Lobby", "--json")}
    assert (stock["10"]["on_hand"], stock["11"]["on_hand"]) == (8, 12)
    assert "Lobby" in cli("machines", "list") and "T1" in cli("trucks", "list")
    fills = cli("fill", "Lobby", "-s", "10", "--level", "8", "--at", "2026-11-29T01:00", "--json")
    assert fills[0]["filled_at"] == "2026-11-29T00:00:00+00:00"  # 01:00 in the machine's zone (Berlin)
    assert cli("alerts", "--json") == []


def test_bad_rows_name_the_row_and_store_nothing(cli: Any, tmp_path: Path) -> None:
    products = tmp_path / "products.csv"
    products.write_text("sku,name,case_size\ncola,Cola,24\nwater,Water,a dozen\n")
    output = cli("products", "import", str(products), ok=False)
    assert "products.csv[2].case_size" in output
    assert cli("products", "list", "--json") == []
    assert "machine nowhere not found" in cli("fill", "nowhere", "--selection", "1", "--units", "1", ok=False)
