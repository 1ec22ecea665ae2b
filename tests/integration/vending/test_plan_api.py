"""``/v1/vending/plans`` in-process on both backends: dispatch now, list, detail, pick lists (JSON, CSV),
complete, roles and tenant scoping."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings
from tradeoff.vending import fleet
from tradeoff.vending.fills import record_fill

P = "/v1/vending/plans"
AT = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # Monday 05:00 Berlin, before the 06:00 shift


@dataclass
class World:
    client: TestClient
    keys: dict[str, str]
    ids: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def call(self, method: str, path: str, who: str = "acme:admin", **kwargs: Any) -> Any:
        return self.client.request(method, path, headers=self.h(who), **kwargs)

    def dispatch(self, who: str = "acme:admin") -> list[dict[str, Any]]:
        response = self.call("POST", P, who, json={"at": AT.isoformat(), "seconds": 0.2})
        assert response.status_code == 201, response.text
        plans: list[dict[str, Any]] = response.json()["plans"]
        return plans


def _fleet(conn: Any, tenant: str, slug: str) -> dict[str, str]:
    depot = fleet.create_depot(conn, tenant_id=tenant, name="North", lat=52.5, lon=13.4, timezone="Europe/Berlin")
    truck = fleet.create_truck(conn, tenant_id=tenant, depot_id=depot.id, name=f"{slug}-T1", capacity_units=400)
    fleet.create_product(conn, tenant_id=tenant, sku="cola", name="Cola", case_size=24)
    machine = fleet.create_machine(
        conn, tenant_id=tenant, name=f"{slug}-Lobby", lat=52.52, lon=13.41, timezone="Europe/Berlin",
        depot_id=depot.id,
    )  # fmt: skip
    spec = fleet.ColumnSpec(selection="10", product="cola", capacity=12, par=10, threshold_pct=30)
    fleet.set_planogram(conn, tenant_id=tenant, machine_id=machine.id, columns=[spec])
    record_fill(conn, tenant_id=tenant, machine_id=machine.id, selection="10", level=2, recorded_by="key:t",
                filled_at=AT - timedelta(hours=2))  # fmt: skip
    return {"depot": depot.id, "truck": truck.id, "machine": machine.id}


@pytest.fixture
def world(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    keys: dict[str, str] = {}
    ids: dict[str, str] = {}
    with engine.begin() as conn:
        for slug in ("acme", "zeta"):
            tenant = tenancy.create_tenant(conn, slug=slug, name=slug.title(), kind="vending_operator")
            for role in Role:
                keys[f"{slug}:{role.value}"] = create_api_key(
                    conn, tenant_id=tenant.id, role=role, name=role.value
                ).secret
            ids |= {f"{slug}:{k}": v for k, v in _fleet(conn, tenant.id, slug).items()}
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        keyring_path=tmp_path / "keys" / "keyring.json",
        run_processors=False,
        vending_plan_seconds=0.2,
    )
    with TestClient(create_app(settings)) as client:
        yield World(client, keys, ids)


def test_dispatch_list_detail_picklist_and_complete(world: World) -> None:
    (plan,) = world.dispatch()
    assert plan["status"] == "dispatched" and plan["reason"] == "manual" and plan["created_at"] == AT.isoformat()
    (truck,) = plan["trucks"]
    assert truck["truck_name"] == "acme-T1"
    (stop,) = truck["stops"]
    assert stop["machine_id"] == world.ids["acme:machine"] and stop["machine_name"] == "acme-Lobby"
    assert stop["number"] == 1 and stop["eta"] >= "2026-11-23T05:00:00+00:00"
    (pick,) = stop["picks"]
    assert pick == {"selection": "10", "product": "cola", "name": "Cola", "quantity": 8}  # 2 left, par 10
    assert truck["load"] == [{"product": "cola", "name": "Cola", "quantity": 8}]

    listed = world.call("GET", P, "acme:staff", params={"status": "dispatched"}).json()["plans"]
    assert [p["id"] for p in listed] == [plan["id"]]
    assert world.call("GET", P, params={"depot_id": world.ids["acme:depot"]}).json()["plans"][0]["id"] == plan["id"]
    assert world.call("GET", f"{P}/{plan['id']}").json()["distance_m"] == truck["distance_m"]

    picklist = world.call("GET", f"{P}/{plan['id']}/picklist").json()
    assert picklist["trucks"][0]["load"][0]["quantity"] == 8
    assert picklist["trucks"][0]["stops"][0]["picks"][0]["quantity"] == 8
    response = world.call("GET", f"{P}/{plan['id']}/picklist", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["kind"], r["quantity"]) for r in rows] == [("load", "8"), ("pick", "8")]
    assert rows[1]["machine"] == "acme-Lobby" and rows[1]["stop"] == "1"

    (again,) = world.dispatch()  # nothing has started: the first plan is superseded
    assert world.call("GET", f"{P}/{plan['id']}").json()["status"] == "superseded"
    done = world.call("POST", f"{P}/{again['id']}/complete", "acme:device")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert world.call("POST", f"{P}/{again['id']}/complete").status_code == 409  # already completed


def test_roles(world: World) -> None:
    assert world.call("POST", P, "acme:staff", json={"seconds": 0.2, "at": AT.isoformat()}).status_code == 403
    for who in ("acme:pos", "acme:device"):
        assert world.call("GET", P, who).status_code == 403
        assert world.call("POST", P, who, json={}).status_code == 403
    (plan,) = world.dispatch()
    assert world.call("POST", f"{P}/{plan['id']}/complete", "acme:pos").status_code == 403
    assert world.call("GET", P, params={"status": "nonsense"}).status_code == 422
    assert world.call("GET", f"{P}/nope").status_code == 404


def test_tenant_scoping(world: World) -> None:
    (zeta,) = world.dispatch("zeta:admin")
    assert world.call("GET", P).json()["plans"] == []
    for path in (f"{P}/{zeta['id']}", f"{P}/{zeta['id']}/picklist"):
        assert world.call("GET", path).status_code == 403
    assert world.call("POST", f"{P}/{zeta['id']}/complete").status_code == 403
    assert world.call("GET", P, params={"depot_id": world.ids["zeta:depot"]}).status_code == 403
    body = {"depot_id": world.ids["zeta:depot"], "seconds": 0.2}
    assert world.call("POST", P, json=body).status_code == 403
    assert world.call("GET", f"{P}/{zeta['id']}", "zeta:admin").json()["status"] == "dispatched"
