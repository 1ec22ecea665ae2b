"""The vending pages through the dashboard: the fleet overview, a plan drawn as SVG, printable pick lists."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.unit.vending.test_dispatch import source
from tests.unit.web.test_dashboard import PASSWORD, login
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_user
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.platform.settings import Settings
from tradeoff.server import create_server_app
from tradeoff.vending import fleet
from tradeoff.vending.dispatch import run_dispatch
from tradeoff.vending.fills import record_fill
from tradeoff.web.vending import route_drawing

AT = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # Monday 05:00 Berlin


def seed_plans(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A database with two tenants' fleets and a dispatched plan each; (URL, ids)."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    upgrade(url)
    engine = make_engine(url)
    ids: dict[str, str] = {}
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="vendco", name="VendCo", kind="vending_operator").id
        other = tenancy.create_tenant(conn, slug="other", name="Other", kind="vending_operator").id
        create_user(conn, tenant_id=tenant, username="alice", password=PASSWORD, role=Role.ADMIN)
        create_user(conn, tenant_id=other, username="olga", password=PASSWORD, role=Role.ADMIN)
        depot = fleet.create_depot(conn, tenant_id=tenant, name="North", lat=52.5, lon=13.4, timezone="Europe/Berlin")
        for name in ("T1", "T2"):  # ten units each: the two machines need a truck each
            fleet.create_truck(conn, tenant_id=tenant, depot_id=depot.id, name=name, capacity_units=10)
        fleet.create_product(conn, tenant_id=tenant, sku="cola", name="Cola")
        for name, lat, lon in (("Lobby", 52.52, 13.41), ("Station", 52.47, 13.36)):
            machine = fleet.create_machine(
                conn, tenant_id=tenant, name=name, lat=lat, lon=lon, timezone="Europe/Berlin", depot_id=depot.id
            )
            spec = fleet.ColumnSpec(selection="10", product="cola", capacity=12, par=10)
            fleet.set_planogram(conn, tenant_id=tenant, machine_id=machine.id, columns=[spec])
            record_fill(conn, tenant_id=tenant, machine_id=machine.id, selection="10", level=2, recorded_by="cli",
                        filled_at=AT - timedelta(hours=1))  # fmt: skip
    (plan,) = run_dispatch(engine, tenant_id=tenant, now=AT, seconds=0.2, forecasts=source(0.0))
    ids["plan"] = plan.id
    with engine.begin() as conn:  # the other tenant's plan, for scoping
        depot_b = fleet.create_depot(conn, tenant_id=other, name="South", lat=48.1, lon=11.6)
        fleet.create_truck(conn, tenant_id=other, depot_id=depot_b.id, name="Z1", capacity_units=50)
        fleet.create_product(conn, tenant_id=other, sku="water", name="Water")
        machine_b = fleet.create_machine(conn, tenant_id=other, name="Zoo", lat=48.2, lon=11.6, depot_id=depot_b.id)
        spec = fleet.ColumnSpec(selection="1", product="water", capacity=12)
        fleet.set_planogram(conn, tenant_id=other, machine_id=machine_b.id, columns=[spec])
    (plan_b,) = run_dispatch(engine, tenant_id=other, now=AT, seconds=0.2, forecasts=source(0.0))
    ids["other_plan"] = plan_b.id
    engine.dispose()
    return url, ids


def vending_app(url: str, tmp_path: Path) -> FastAPI:
    app: FastAPI = create_server_app(Settings(database_url=url, var_dir=tmp_path, run_processors=False))
    return app


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url, ids = seed_plans(tmp_path)
    with TestClient(vending_app(url, tmp_path)) as client:
        yield client, ids


def test_fleet_overview_lists_machines_and_plans(world: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = world
    assert login(client).status_code == 303
    page = client.get("/vending")
    assert page.status_code == 200
    assert 'href="/vending"' in page.text  # the nav item
    assert "Lobby" in page.text and "Station" in page.text and "20 %" in page.text
    assert f'href="/vending/plans/{ids["plan"]}"' in page.text
    assert ids["other_plan"] not in page.text


def test_plan_page_draws_one_route_per_truck_and_prints(world: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = world
    login(client)
    page = client.get(f"/vending/plans/{ids['plan']}")
    assert page.status_code == 200
    svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
    assert len(re.findall(r'<path class="route"', svg)) == 2
    assert len(re.findall(r'<g class="stop"', svg)) == 2 and 'data-testid="depot"' in svg
    assert 'data-testid="scale-bar"' in svg and "style=" not in svg  # the CSP allows no inline styles
    assert page.text.count('data-testid="truck-sheet"') == 2
    assert page.text.count('data-testid="stop"') == 2
    assert "times in Europe/Berlin" in page.text and page.text.count("ETA 06:") == 2  # 05:xx UTC, depot-local
    assert "data-print" in page.text and "/static/vending.js" in page.text
    assert client.get("/static/vending.css").status_code == 200
    other = client.get(f"/vending/plans/{ids['other_plan']}")
    assert other.status_code == 403 and "Station" not in other.text
    assert client.get("/vending/plans/nope").status_code == 404


def test_pages_need_a_login(world: tuple[TestClient, dict[str, str]]) -> None:
    client, ids = world
    response = client.get(f"/vending/plans/{ids['plan']}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_route_drawing_projects_around_the_depot() -> None:
    drawing = route_drawing(
        (52.5, 13.4),
        [("T1", [(52.52, 13.4, "1", "north")]), ("T2", [(52.5, 13.45, "1", "east"), (52.48, 13.45, "2", "se")])],
        [(52.49, 13.38, "late")],
    )
    depot = drawing.depot
    north = drawing.routes[0].stops[0]
    east = drawing.routes[1].stops[0]
    assert north.y < depot.y and abs(north.x - depot.x) < 1e-6  # north is up
    assert east.x > depot.x and abs(east.y - depot.y) < 1e-6
    # equal metres get equal pixels: 0.02° lat ≈ 2.2 km, 0.05° lon at 52.5° ≈ 3.4 km
    assert (east.x - depot.x) / (depot.y - north.y) == pytest.approx(3388 / 2211, rel=0.01)
    assert drawing.routes[0].d.startswith(f"M{depot.x},{depot.y}") and drawing.routes[0].d.endswith(
        f"L{depot.x},{depot.y}"
    )
    assert drawing.scale_label in ("500 m", "1 km", "2 km") and drawing.scale_px > 0
    assert len(drawing.deferred) == 1
