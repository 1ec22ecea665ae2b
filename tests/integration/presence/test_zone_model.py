"""A site's calibrated zone model on both backends: install / inspect / remove through ``/v1/sites/{site_id}/
zone-model`` and the CLI, roles and tenants, and live tracking — sightings through the pipeline and the
presence processor enter the zone the fingerprint model says where path-loss says another."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

import tradeoff.presence.processor as presence_processor
from tradeoff.cli import app as cli_app
from tradeoff.core.clock import utcnow
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.db.registry import all_metadata
from tradeoff.platform.db.rls import unprotected_tables
from tradeoff.platform.db.tables import events
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings
from tradeoff.presence.gateways.sighting import Sighting, ibeacon
from tradeoff.presence.model import calibration
from tradeoff.presence.processor import floor_plan_zones
from tradeoff.presence.setup import zone_model
from tradeoff.presence.store import presence_zone_models
from tradeoff.presence.tracking import CombinedZones, PathLossZones, best_zone

TAG_UUID = "426c7565-4368-6172-6d42-6561636f6e73"
PLAN = {
    "width_m": 20,
    "height_m": 10,
    "zones": [
        {"name": "dairy", "label": "Dairy", "polygon": [[0, 0], [10, 0], [10, 10], [0, 10]]},
        {"name": "bakery", "label": "Bakery", "polygon": [[10, 0], [20, 0], [20, 10], [10, 10]]},
    ],
}
# Where a trolley tag stands in the bakery, gw-1 (in the dairy, 4 m away through an open aisle) hears it
# at -62 dBm and gw-2 (in the bakery, behind the oven wall) at -72: path-loss puts it in the dairy.
BAKERY_SPOT = {"gw1": -62.0, "gw2": -72.0}
DAIRY_SPOT = {"gw1": -52.0, "gw2": -86.0}


def model_document(seed: int = 0) -> dict[str, Any]:
    """A walk-through with the two spots as classes (beacon columns "gw1", "gw2")."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for label, spot in (("bakery", BAKERY_SPOT), ("dairy", DAIRY_SPOT)):
        for _ in range(30):
            rows.append([spot["gw1"] + rng.normal(0, 2), spot["gw2"] + rng.normal(0, 2)])
            labels.append(label)
    store = calibration.calibrate(np.round(np.array(rows)), np.array(labels), ("gw1", "gw2"))
    return calibration.to_dict(store)


def receivers_of(slug: str) -> dict[str, str]:
    return {"gw1": f"{slug}-gw-1", "gw2": f"{slug}-gw-2"}


@dataclass
class World:
    client: TestClient
    platform: Platform
    engine: Engine
    keys: dict[str, str]
    ids: dict[str, str]

    def call(self, method: str, path: str, who: str = "acme:admin", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return self.client.request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, who: str = "acme:admin", **kwargs: Any) -> Any:
        response = self.call(method, path, who, **kwargs)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else None

    def url(self, tenant: str = "acme") -> str:
        return f"/v1/sites/{self.ids[f'{tenant}:site']}/zone-model"


@pytest.fixture
def world(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[World]:
    keys: dict[str, str] = {}
    ids: dict[str, str] = {}
    with engine.begin() as conn:
        for slug in ("acme", "zeta"):
            tenant = tenancy.create_tenant(conn, slug=slug, name=slug.title())
            ids[slug] = tenant.id
            site = tenancy.create_site(conn, tenant_id=tenant.id, name=f"{slug} store")
            ids[f"{slug}:site"] = site.id
            for ext in ("gw-1", "gw-2"):
                device = tenancy.create_device(
                    conn, tenant_id=tenant.id, external_id=f"{slug}-{ext}", kind="gateway", site_id=site.id
                )
                ids[f"{slug}:{ext}"] = device.id
            for role in Role:
                keys[f"{slug}:{role.value}"] = create_api_key(
                    conn, tenant_id=tenant.id, role=role, name=role.value
                ).secret
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path,
        keyring_path=tmp_path / "keys" / "keyring.json",
        run_processors=False,
    )
    platform = build_platform(settings)
    try:
        with TestClient(create_app(settings, platform=platform)) as client:
            world = World(client, platform, engine, keys, ids)
            for slug in ("acme", "zeta"):
                base = f"/v1/sites/{ids[f'{slug}:site']}"
                world.ok("PUT", f"{base}/floor-plan", f"{slug}:admin", json=PLAN)
                for ext, x in (("gw-1", 8), ("gw-2", 18)):
                    body = {"x_m": x, "y_m": 5}
                    world.ok("PUT", f"{base}/gateways/{ids[f'{slug}:{ext}']}/placement", f"{slug}:admin", json=body)
            yield world
    finally:
        platform.close()


def walk(world: World, slug: str, tag: int, spot: dict[str, float], t0: datetime, seconds: int = 40) -> None:
    """A trolley tag standing at ``spot``, heard by both gateways of ``slug`` every second."""
    batch = []
    for second in range(seconds):
        at = t0 + timedelta(seconds=second)
        for column, gateway in receivers_of(slug).items():
            sighting = Sighting("omg", gateway, ibeacon(TAG_UUID, 9, tag), at, rssi=spot[column] + (second % 3 - 1))
            batch.append(
                {"event_id": f"{slug}-{tag}-{column}-{second}", "type": "presence.sighting",
                 "occurred_at": at.isoformat(), "source": gateway, "payload": sighting.to_payload()}
            )  # fmt: skip
    result = world.ok("POST", "/v1/events", f"{slug}:device", json={"events": batch})
    assert all(item["status"] == "accepted" for item in result["results"]), result
    world.platform.bus.drain()


def entered(world: World, slug: str) -> list[tuple[str, str]]:
    query = (
        select(events.c.payload)
        .where(events.c.tenant_id == world.ids[slug], events.c.type == "presence.zone_entered")
        .order_by(events.c.seq)
    )
    with world.engine.connect() as conn:
        return [(payload["entity"], payload["zone"]) for payload in conn.execute(query).scalars()]


def tag_key(tag: int) -> str:
    return ibeacon(TAG_UUID, 9, tag).key


# -- API ---------------------------------------------------------------------------------------------------


def test_install_inspect_and_remove(world: World) -> None:
    url = world.url()
    missing = world.call("GET", url)
    assert missing.status_code == 404 and "path-loss" in missing.json()["error"]["message"]
    # The model file as calibrate wrote it: its beacon columns are not live receivers (yet).
    installed = world.ok("PUT", url, content=orjson.dumps(model_document()))
    assert installed["classes"] == {"bakery": "bakery", "dairy": "dairy"} and installed["zones"] == ["bakery", "dairy"]
    assert installed["receivers"] == ["gw1", "gw2"] and installed["unknown_receivers"] == ["gw1", "gw2"]
    assert installed["fingerprints"] == 60 and installed["scans"] == 60 and installed["created_by"].startswith("key:")
    # Wrapped with a receiver map: the gateways by external id.
    body = {"model": model_document(), "receivers": receivers_of("acme")}
    replaced = world.ok("PUT", url, "acme:staff", json=body)
    assert replaced["receivers"] == ["acme-gw-1", "acme-gw-2"] and replaced["unknown_receivers"] == []
    assert world.ok("GET", url, "acme:staff") == replaced
    with world.engine.connect() as conn:
        assert len(conn.execute(select(presence_zone_models)).all()) == 1, "one model per site"
    world.ok("DELETE", url)
    assert world.call("GET", url).status_code == 404
    world.ok("DELETE", url)  # removing nothing is fine


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "pickle"}, "model"),
        ({"model": {"format": "tradeoff-presence-model", "version": 1}}, "model"),
        ({"model": "MODEL", "zones": {"bakery": "oven", "dairy": "dairy"}}, "zones"),
        ({"model": "MODEL", "zones": {"freezer": "dairy"}}, "zones"),
        ({"model": "MODEL", "receivers": {"gw9": "acme-gw-1"}}, "receivers"),
        ({"model": "MODEL", "receivers": {"gw1": "acme-gw-1", "gw2": "acme-gw-1"}}, "receivers"),
        ({"model": "MODEL", "colour": "red"}, "colour"),
        ([1, 2], "body"),
    ],
)
def test_bad_models_name_the_field(world: World, body: Any, field: str) -> None:
    if isinstance(body, dict) and body.get("model") == "MODEL":
        body = {**body, "model": model_document()}
    response = world.call("PUT", world.url(), json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field


def test_grid_models_must_be_mapped_onto_the_plan(world: World) -> None:
    document = model_document()
    cells = {"bakery": "A01", "dairy": "D01"}  # the same order: the fingerprints name classes by index
    document["classes"] = [cells[label] for label in document["classes"]]
    rejected = world.call("PUT", world.url(), json=document)
    assert rejected.status_code == 422 and "Z-A01" in rejected.json()["error"]["message"]
    mapped = world.ok("PUT", world.url(), json={"model": document, "zones": {"A01": "bakery"}})
    assert mapped["classes"] == {"A01": "bakery", "D01": None} and mapped["zones"] == ["bakery"]


def test_roles_and_tenants(world: World) -> None:
    body = {"model": model_document(), "receivers": receivers_of("zeta")}
    world.ok("PUT", world.url("zeta"), "zeta:admin", json=body)
    assert world.call("GET", world.url(), who="").status_code == 401
    for role in ("device", "pos"):
        assert world.call("PUT", world.url(), f"acme:{role}", json=body).status_code == 403
        assert world.call("GET", world.url(), f"acme:{role}").status_code == 403
    for method in ("GET", "DELETE"):
        assert world.call(method, world.url("zeta"), "acme:admin").status_code == 403
    assert world.call("PUT", world.url("zeta"), "acme:staff", json=body).status_code == 403
    assert world.call("GET", "/v1/sites/nosuchsite/zone-model").status_code == 404
    assert world.ok("GET", world.url("zeta"), "zeta:staff")["receivers"] == ["zeta-gw-1", "zeta-gw-2"]
    with world.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            assert "presence_zone_models" not in unprotected_tables(conn, all_metadata())


def test_cli_installs_shows_and_removes(world: World, database_url: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("TRADEOFF_DATABASE_URL", database_url)
    path = tmp_path / "store.json"
    path.write_bytes(orjson.dumps(model_document()))
    runner = CliRunner()
    status = ["presence", "model-status", "--tenant", "acme", "--site", "acme store"]
    args = ["presence", "install-model", str(path), "--tenant", "acme", "--site", "acme store",
            "--receiver", "gw1=acme-gw-1", "--receiver", "gw2=acme-gw-2", "--json"]  # fmt: skip
    done = runner.invoke(cli_app, args)
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.stdout)["receivers"] == ["acme-gw-1", "acme-gw-2"]
    shown = runner.invoke(cli_app, [*status, "--json"])
    assert orjson.loads(shown.stdout)["created_by"] == "cli"
    bad = runner.invoke(cli_app, [*args[:7], "--zone", "dairy=freezer"])
    assert bad.exit_code == 1 and "floor plan" in bad.output
    gone = runner.invoke(cli_app, ["presence", "remove-model", "--tenant", "acme", "--site", world.ids["acme:site"]])
    assert gone.exit_code == 0 and "path-loss" in gone.stdout
    assert runner.invoke(cli_app, status).exit_code == 1


def test_cli_calibrate_can_install(world: World, database_url: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("TRADEOFF_DATABASE_URL", database_url)
    rng = np.random.default_rng(3)
    lines = ["spot,a,b"]
    for label, spot in (("bakery", BAKERY_SPOT), ("dairy", DAIRY_SPOT)):
        for _ in range(10):
            lines.append(f"{label},{spot['gw1'] + rng.normal(0, 2):.0f},{spot['gw2'] + rng.normal(0, 2):.0f}")
    csv = tmp_path / "walk.csv"
    csv.write_text("\n".join(lines) + "\n")
    args = ["presence", "calibrate", "--csv", str(csv), "--label", "spot", "--rssi", "a,b",
            "--out", str(tmp_path / "m.json"), "--install", "--tenant", "acme", "--site", "acme store",
            "--receiver", "a=acme-gw-1", "--receiver", "b=acme-gw-2", "--json"]  # fmt: skip
    done = CliRunner().invoke(cli_app, args)
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.stdout)["installed"]["zones"] == ["bakery", "dairy"]
    assert CliRunner().invoke(cli_app, args[:10] + ["--install"]).exit_code == 1, "--install needs --tenant and --site"


# -- live tracking -----------------------------------------------------------------------------------------


def test_the_live_tracker_enters_the_zone_the_installed_model_says(world: World) -> None:
    t0 = utcnow() - timedelta(minutes=10)
    body = {"model": model_document(), "receivers": receivers_of("acme")}
    world.ok("PUT", world.url(), json=body)
    walk(world, "acme", 1, BAKERY_SPOT, t0)
    walk(world, "zeta", 1, BAKERY_SPOT, t0)  # zeta: same store, no model
    assert entered(world, "acme") == [(tag_key(1), "bakery")]
    assert entered(world, "zeta") == [(tag_key(1), "dairy")], "path-loss alone says the dairy"
    with world.engine.connect() as conn:
        estimator = floor_plan_zones(conn, world.ids["acme"])
        assert isinstance(estimator, CombinedZones)
        assert isinstance(floor_plan_zones(conn, world.ids["zeta"]), PathLossZones)
        levels = {"acme-gw-1": BAKERY_SPOT["gw1"], "acme-gw-2": BAKERY_SPOT["gw2"], "elsewhere": -50.0}
        assert best_zone(estimator.scores(levels))[0] == "bakery"


def test_installs_reach_a_running_processor_when_its_estimators_reload(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = utcnow() - timedelta(minutes=20)
    walk(world, "acme", 1, DAIRY_SPOT, t0, seconds=10)  # the running processor loads path-loss for acme
    world.ok("PUT", world.url(), json={"model": model_document(), "receivers": receivers_of("acme")})
    walk(world, "acme", 2, BAKERY_SPOT, t0 + timedelta(seconds=10))
    assert (tag_key(2), "dairy") in entered(world, "acme"), "estimators are cached for ESTIMATOR_TTL_S"
    monkeypatch.setattr(presence_processor, "ESTIMATOR_TTL_S", 0.0)
    walk(world, "acme", 3, BAKERY_SPOT, t0 + timedelta(seconds=60))
    assert (tag_key(3), "bakery") in entered(world, "acme")
    world.ok("DELETE", world.url())
    walk(world, "acme", 4, BAKERY_SPOT, t0 + timedelta(seconds=110))
    assert (tag_key(4), "dairy") in entered(world, "acme"), "removed: back to path-loss"


def test_a_stored_model_that_no_longer_loads_falls_back_to_path_loss(world: World) -> None:
    world.ok("PUT", world.url(), json={"model": model_document(), "receivers": receivers_of("acme")})
    with world.engine.begin() as conn:
        conn.execute(presence_zone_models.update().values(model={"format": "tradeoff-presence-model", "version": 9}))
        assert zone_model.estimators(conn, tenant_id=world.ids["acme"]) == {}
        assert isinstance(floor_plan_zones(conn, world.ids["acme"]), PathLossZones)
