"""The ``/v1/vending`` API in-process: CRUD, planograms, fills, stock, alerts, roles and tenant isolation."""

from __future__ import annotations

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

V = "/v1/vending"


@dataclass
class World:
    client: TestClient
    keys: dict[str, str]
    ids: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def ok(self, method: str, path: str, who: str = "acme:admin", **kwargs: Any) -> Any:
        response = self.client.request(method, path, headers=self.h(who), **kwargs)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else None

    def drain(self) -> None:
        self.client.app.state.platform.bus.drain()  # type: ignore[attr-defined]


@pytest.fixture
def world(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    keys: dict[str, str] = {}
    ids: dict[str, str] = {}
    with engine.begin() as conn:
        for slug in ("acme", "zeta"):
            tenant = tenancy.create_tenant(conn, slug=slug, name=slug.title(), kind="vending_operator")
            ids[slug] = tenant.id
            for ext in ("vm-1", "vm-2"):
                device = tenancy.create_device(conn, tenant_id=tenant.id, external_id=ext, kind="vending_machine")
                ids[f"{slug}:{ext}"] = device.id
            for role in Role:
                keys[f"{slug}:{role.value}"] = create_api_key(
                    conn, tenant_id=tenant.id, role=role, name=role.value
                ).secret
            bound = ids[f"{slug}:vm-1"]
            keys[f"{slug}:vm-1"] = create_api_key(
                conn, tenant_id=tenant.id, role=Role.DEVICE, name="vm-1", device_id=bound
            ).secret
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        keyring_path=tmp_path / "keys" / "keyring.json",
        run_processors=False,
    )
    with TestClient(create_app(settings)) as client:
        yield World(client, keys, ids)


def _fleet(world: World, tenant: str = "acme") -> dict[str, str]:
    who = f"{tenant}:admin"
    depot = world.ok(
        "POST", f"{V}/depots", who, json={"name": "North", "lat": 52.5, "lon": 13.4, "timezone": "Europe/Berlin"}
    )
    truck_body = {"depot_id": depot["id"], "name": "T1", "capacity_units": 800, "shift_start": "06:00"}
    truck = world.ok("POST", f"{V}/trucks", who, json={**truck_body, "shift_end": "14:00"})
    for sku in ("cola", "water"):
        world.ok("POST", f"{V}/products", who, json={"sku": sku, "name": sku.title(), "case_size": 24})
    machine_body = {"name": "Lobby", "lat": 52.52, "lon": 13.41, "dex_serial": "SN-1", "depot_id": depot["id"]}
    machine_body |= {"device_id": world.ids[f"{tenant}:vm-1"], "opening_hours": {"mon": [["07:00", "19:00"]]}}
    machine = world.ok("POST", f"{V}/machines", who, json=machine_body)
    columns = [
        {"selection": "10", "product": "cola", "capacity": 12, "par": 10, "threshold_pct": 30},
        {"selection": "11", "product": "water", "capacity": 12},
    ]
    world.ok("PUT", f"{V}/machines/{machine['id']}/planogram", who, json={"columns": columns})
    return {"depot": depot["id"], "truck": truck["id"], "machine": machine["id"]}


def test_fleet_crud(world: World) -> None:
    ids = _fleet(world)
    assert [d["name"] for d in world.ok("GET", f"{V}/depots")["depots"]] == ["North"]
    truck = world.ok("PATCH", f"{V}/trucks/{ids['truck']}", json={"capacity_volume_l": 2000.0})
    assert truck["capacity_volume_l"] == 2000.0 and truck["capacity_units"] == 800
    machine = world.ok("GET", f"{V}/machines/{ids['machine']}")
    assert machine["opening_hours"] == {"mon": [["07:00", "19:00"]]}
    planogram = world.ok("GET", f"{V}/machines/{ids['machine']}/planogram")["columns"]
    assert [(c["selection"], c["par"]) for c in planogram] == [("10", 10), ("11", 12)]
    assert len(world.ok("GET", f"{V}/products", "acme:staff")["products"]) == 2
    depot = world.client.delete(f"{V}/depots/{ids['depot']}", headers=world.h("acme:admin"))
    assert depot.status_code == 409  # trucks and machines still use it
    nulled = world.client.patch(f"{V}/depots/{ids['depot']}", json={"name": None}, headers=world.h("acme:admin"))
    assert nulled.status_code == 422 and nulled.json()["error"]["details"]["field"] == "name"
    machine_path = f"{V}/machines/{ids['machine']}"
    world.ok("POST", f"{machine_path}/fills", json={"all_to_par": True})
    assert world.client.delete(machine_path, headers=world.h("acme:admin")).status_code == 409  # it has history
    assert len(world.ok("GET", f"{machine_path}/planogram")["columns"]) == 2
    world.ok("DELETE", f"{V}/trucks/{ids['truck']}")
    assert world.client.get(f"{V}/trucks/{ids['truck']}", headers=world.h("acme:admin")).status_code == 404


BACKWARDS = {"mon": [["19:00", "07:00"]]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("depots", {"name": "X", "lat": 91, "lon": 0}, "lat"),
        ("depots", {"name": "X", "lat": 1, "lon": 0, "timezone": "Mars/Base"}, "timezone"),
        ("machines", {"name": "X", "lat": 1, "lon": 1, "opening_hours": BACKWARDS}, "opening_hours.mon"),
        ("machines", {"name": "X", "lat": 1, "lon": 1, "opening_hours": {"someday": []}}, "opening_hours"),
        ("trucks", {"depot_id": "nope", "name": "X"}, None),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error_and_stores_nothing(
    world: World, path: str, body: dict[str, Any], field: str | None
) -> None:
    response = world.client.post(f"{V}/{path}", json=body, headers=world.h("acme:admin"))
    assert response.status_code in (404, 422), response.text
    if field is not None:
        assert response.json()["error"]["details"]["field"] == field
    assert world.ok("GET", f"{V}/{path}")[path] == []


def test_bad_planogram_line_names_it_and_keeps_the_old_planogram(world: World) -> None:
    ids = _fleet(world)
    columns = [{"selection": "10", "product": "cola", "capacity": 5, "par": 9}]
    response = world.client.put(
        f"{V}/machines/{ids['machine']}/planogram", json={"columns": columns}, headers=world.h("acme:admin")
    )
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "columns[0].par"
    assert len(world.ok("GET", f"{V}/machines/{ids['machine']}/planogram")["columns"]) == 2


def test_fills_audits_stock_and_alerts(world: World) -> None:
    ids = _fleet(world)
    machine = ids["machine"]
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    audit = {
        "machine": {"serial": "SN-1"}, "read_at": t0.isoformat(), "currency": "EUR", "decimals": 2,
        "totals": {"vends": 30, "value": 4_500},
        "columns": [{"selection": "10", "vends_total": 20, "value_total": 3_000},
                    {"selection": "11", "vends_total": 10, "value_total": 1_500}],
    }  # fmt: skip
    event = {"event_id": "a1", "type": "vending.dex_audit", "occurred_at": t0.isoformat(), "source": "vm-1"}
    world.ok("POST", "/v1/events", "acme:device", json={"events": [{**event, "payload": audit}]})
    world.drain()
    fills = world.ok(
        "POST", f"{V}/machines/{machine}/fills", "acme:vm-1",
        json={"all_to_par": True, "filled_at": (t0 + timedelta(minutes=5)).isoformat()},
    )["fills"]  # fmt: skip
    assert [(f["selection"], f["level_after"]) for f in fills] == [("10", 10), ("11", 12)]
    assert fills[0]["recorded_by"].startswith("key:")
    later = t0 + timedelta(hours=2)
    audit2 = {**audit, "read_at": later.isoformat(), "totals": {"vends": 41, "value": 9_000},
              "columns": [{"selection": "10", "vends_total": 31, "value_total": 4_650},
                          {"selection": "11", "vends_total": 10, "value_total": 1_500}]}  # fmt: skip
    event2 = {**event, "event_id": "a2", "occurred_at": later.isoformat(), "payload": audit2}
    world.ok("POST", "/v1/events", "acme:device", json={"events": [event2]})
    world.drain()
    stock = world.ok("GET", f"{V}/machines/{machine}/stock", "acme:staff")
    columns = {c["selection"]: c for c in stock["columns"]}
    assert columns["10"]["on_hand"] == 0 and columns["10"]["sold_out"] and columns["11"]["on_hand"] == 12
    assert stock["state"]["currency"] == "EUR"
    kinds = sorted(a["kind"] for a in world.ok("GET", f"{V}/alerts")["alerts"])
    assert kinds == ["reconciliation", "sold_out"]  # 1,650 sold per PA202 against 4,500 per VA1
    sold_out = world.ok("GET", f"{V}/columns", params={"sold_out": "true"})["columns"]
    assert [(c["machine_id"], c["selection"]) for c in sold_out] == [(machine, "10")]
    one = world.ok(
        "POST", f"{V}/machines/{machine}/fills", "acme:staff", json={"lines": [{"selection": "10", "units": 4}]}
    )
    assert one["fills"][0]["level_after"] == 4
    (mismatch,) = world.ok("GET", f"{V}/alerts")["alerts"]
    assert mismatch["kind"] == "reconciliation"
    other = world.client.post(f"{V}/alerts/resolve", json={"ids": [mismatch["id"]]}, headers=world.h("zeta:admin"))
    assert other.status_code == 403
    world.ok("POST", f"{V}/alerts/resolve", "acme:staff", json={"ids": [mismatch["id"]]})
    assert world.ok("GET", f"{V}/alerts")["alerts"] == []
    assert len(world.ok("GET", f"{V}/machines/{machine}/audits")["audits"]) == 2
    assert len(world.ok("GET", f"{V}/machines/{machine}/fills")["fills"]) == 3


def test_fill_errors(world: World) -> None:
    machine = _fleet(world)["machine"]
    cases = [
        ({"lines": [{"selection": "77", "units": 1}]}, 422),  # not in the planogram
        ({"lines": [{"selection": "10", "units": 1, "to_par": True}]}, 422),  # two ways at once
        ({"lines": []}, 422),
        ({"lines": [{"selection": "10", "to_par": True}], "filled_at": "2099-01-01T00:00:00Z"}, 422),
    ]
    for body, expected in cases:
        response = world.client.post(f"{V}/machines/{machine}/fills", json=body, headers=world.h("acme:admin"))
        assert response.status_code == expected, (body, response.text)
    assert world.ok("GET", f"{V}/machines/{machine}/fills")["fills"] == []


def test_roles(world: World) -> None:
    machine = _fleet(world)["machine"]
    body = {"name": "X", "lat": 1, "lon": 1}
    assert world.client.post(f"{V}/depots", json=body, headers=world.h("acme:device")).status_code == 403
    assert world.client.get(f"{V}/depots", headers=world.h("acme:pos")).status_code == 403
    assert world.client.post(f"{V}/depots", json=body, headers=world.h("acme:staff")).status_code == 201
    fill = {"lines": [{"selection": "10", "to_par": True}]}
    assert world.client.post(f"{V}/machines/{machine}/fills", json=fill, headers=world.h("acme:pos")).status_code == 403
    assert (
        world.client.post(f"{V}/machines/{machine}/fills", json=fill, headers=world.h("acme:device")).status_code == 201
    )
    # a key bound to another machine's device may not fill this one
    with_vm2 = world.ok("PATCH", f"{V}/machines/{machine}", json={"device_id": world.ids["acme:vm-2"]})
    assert with_vm2["device_id"] == world.ids["acme:vm-2"]
    assert (
        world.client.post(f"{V}/machines/{machine}/fills", json=fill, headers=world.h("acme:vm-1")).status_code == 403
    )


def test_another_tenants_objects_are_403_and_untouched(world: World) -> None:
    zeta = _fleet(world, "zeta")
    acme = "acme:admin"
    for kind, object_id in (("depots", zeta["depot"]), ("trucks", zeta["truck"]), ("machines", zeta["machine"])):
        assert world.client.get(f"{V}/{kind}/{object_id}", headers=world.h(acme)).status_code == 403
        assert (
            world.client.patch(f"{V}/{kind}/{object_id}", json={"name": "Mine"}, headers=world.h(acme)).status_code
            == 403
        )
        assert world.client.delete(f"{V}/{kind}/{object_id}", headers=world.h(acme)).status_code == 403
        assert world.client.get(f"{V}/{kind}/missing", headers=world.h(acme)).status_code == 404
    machine = zeta["machine"]
    for method, path in (("GET", "stock"), ("GET", "planogram"), ("GET", "fills"), ("GET", "audits")):
        assert world.client.request(method, f"{V}/machines/{machine}/{path}", headers=world.h(acme)).status_code == 403
    fill = {"lines": [{"selection": "10", "to_par": True}]}
    assert world.client.post(f"{V}/machines/{machine}/fills", json=fill, headers=world.h(acme)).status_code == 403
    # referring to another tenant's depot or device when creating one's own objects is refused too
    body = {"name": "Sneaky", "lat": 1, "lon": 1, "depot_id": zeta["depot"]}
    assert world.client.post(f"{V}/machines", json=body, headers=world.h(acme)).status_code == 403
    body = {"name": "Sneaky", "lat": 1, "lon": 1, "device_id": world.ids["zeta:vm-2"]}
    assert world.client.post(f"{V}/machines", json=body, headers=world.h(acme)).status_code == 403
    truck = {"depot_id": zeta["depot"], "name": "T9", "capacity_units": 5}
    assert world.client.post(f"{V}/trucks", json=truck, headers=world.h(acme)).status_code == 403
    for path in ("depots", "trucks", "machines", "products", "columns", "alerts"):
        assert world.ok("GET", f"{V}/{path}", acme)[path] == []
    assert world.ok("GET", f"{V}/machines/{machine}", "zeta:admin")["name"] == "Lobby"


def test_a_machine_without_history_is_deleted_with_its_planogram(world: World) -> None:
    world.ok("POST", f"{V}/products", json={"sku": "cola", "name": "Cola"})
    machine = world.ok("POST", f"{V}/machines", json={"name": "Spare", "lat": 1, "lon": 1})["id"]
    columns = [{"selection": "1", "product": "cola", "capacity": 8}]
    world.ok("PUT", f"{V}/machines/{machine}/planogram", json={"columns": columns})
    world.ok("DELETE", f"{V}/machines/{machine}")
    assert world.ok("GET", f"{V}/machines")["machines"] == []
