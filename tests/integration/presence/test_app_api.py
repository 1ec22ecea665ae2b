"""``POST /v1/me/presence`` through the HTTP app: consent decides before storage, stored sightings carry a
pseudonym and never the subject id, resends are duplicates, bad items name their field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, create_api_key
from tradeoff.platform.container import build_platform
from tradeoff.platform.db.tables import events
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings
from tradeoff.presence import app_api
from tradeoff.presence.sim import HttpAppOutlet, StoreVisitors, VisitorConfig
from tradeoff.sim.base import GeneratorContext
from tradeoff.sim.models import traffic_rate
from tradeoff.sim.world import demo_world

UUID = "5f2dd896-b886-4549-ae01-e41acd7a354a"


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]

    def shopper(self, tier: int) -> tuple[str, dict[str, str]]:
        consent = {"tier": tier, "policy_version": "2026-11", "source": "app"}
        headers = {"Authorization": f"Bearer {self.keys['device']}"}
        response = self.client.post("/v1/me/register", headers=headers, json={"consent": consent})
        assert response.status_code == 201, response.text
        doc = response.json()
        return doc["subject_id"], {"Authorization": f"Bearer {doc['app_token']}"}

    def report(self, app: dict[str, str], report_id: str = "r-1", n: int = 3, **item: Any) -> Any:
        at = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
        sightings = [
            {"at": at, "rssi": -60 - i, "kind": "ibeacon", "uuid": UUID, "major": 1, "minor": i + 1, **item}
            for i in range(n)
        ]
        return self.client.post("/v1/me/presence", headers=app, json={"report_id": report_id, "sightings": sightings})

    def stored(self) -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.keys['admin']}"}
        response = self.client.get("/v1/events", headers=headers, params={"limit": 1000})
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events


@pytest.fixture
def api(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Api]:
    keys: dict[str, str] = {}
    with engine.begin() as conn:
        tenant = tenancy.create_tenant(conn, slug="acme", name="Acme").id
        for role in (Role.ADMIN, Role.DEVICE):
            keys[role.value] = create_api_key(conn, tenant_id=tenant, role=role, name=role.value).secret
    settings = Settings(database_url=database_url, var_dir=tmp_path, keyring_path=tmp_path / "keys" / "keyring.json")
    platform = build_platform(settings)
    platform.routers.append(app_api.router)
    try:
        with TestClient(create_app(settings, platform=platform)) as client:
            yield Api(client, keys)
    finally:
        platform.close()


def test_tier_zero_is_dropped_and_nothing_is_stored(api: Api) -> None:
    _, app = api.shopper(0)
    response = api.report(app)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["received"], doc["accepted"], doc["dropped"], doc["reason"]) == (3, 0, 3, "no_consent")
    assert api.stored() == []


@pytest.mark.parametrize(("tier", "prefix"), [(1, "pd_"), (2, "ps_"), (3, "ps_")])
def test_consented_sightings_are_stored_under_a_pseudonym(api: Api, tier: int, prefix: str) -> None:
    subject_id, app = api.shopper(tier)
    doc = api.report(app).json()
    assert (doc["received"], doc["accepted"], doc["dropped"], doc["reason"]) == (3, 3, 0, None)
    stored = api.stored()
    assert len(stored) == 3
    assert {e["type"] for e in stored} == {"presence.sighting"} and {e["source"] for e in stored} == {"app"}
    assert {e["payload"]["identity"]["kind"] for e in stored} == {"ibeacon"}
    assert len({e["payload"]["subject"] for e in stored}) == 1
    assert all(e["payload"]["subject"].startswith(prefix) for e in stored)
    assert subject_id not in orjson.dumps(stored).decode()


def test_a_resent_report_is_stored_once(api: Api) -> None:
    _, app = api.shopper(1)
    assert api.report(app, "r-7").json()["accepted"] == 3
    again = api.report(app, "r-7").json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert len(api.stored()) == 3


def test_authentication_and_bad_items(api: Api) -> None:
    assert api.report({}).status_code == 401
    assert api.report({"Authorization": f"Bearer {api.keys['admin']}"}).status_code == 401
    _, app = api.shopper(1)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = api.report(app, at=future)
    assert response.status_code == 422 and "sightings[0].at" in response.text
    phone = api.report(app, n=1, kind=None, frame="0201060303aafe1116aafe20000b1813000000146700002ac4e4")
    assert phone.status_code == 422  # a telemetry frame names no beacon
    unknown_field = api.report(app, mac="aa:bb:cc:dd:ee:ff")
    assert unknown_field.status_code == 422  # the app may report beacons only, never other phones
    assert api.stored() == []


def test_simulated_app_users_post_through_the_route(api: Api, engine: Engine) -> None:
    """The simulator's app outlet against the real route: tier 0 dropped, the rest stored, pseudonymous."""
    world = demo_world("acme")
    store, *others = world.sites
    world = replace(world, sites=(replace(store, open_hour=0, close_hour=24), *others))  # open whenever CI runs
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    per_minute = traffic_rate(start.astimezone(ZoneInfo(store.timezone)), open_hour=0, close_hour=24)
    config = VisitorConfig(mix=((0, 0.5), (1, 0.25), (2, 0.25)), rate_scale=2 / per_minute)  # ~2 a minute, always
    visitors = StoreVisitors(GeneratorContext(world=world, start=start, seed=3, run_id="apptest"), config)
    client = cast(httpx.Client, api.client)  # starlette's TestClient speaks the same API (httpx2)
    visitors.attach(HttpAppOutlet("http://testserver", register_key=api.keys["device"], client=client))
    for minute in range(1, 3):
        visitors.tick(start + timedelta(minutes=minute), timedelta(minutes=1))
    stats = visitors.stats
    assert stats["app_reports"] > 0 and "app_reports_failed" not in stats and "app_enroll_failed" not in stats
    assert stats["app_sightings_accepted"] > 0 and stats["app_sightings_dropped"] > 0
    with engine.connect() as conn:
        rows = conn.execute(select(events.c.source, events.c.payload)).all()
    stored = [{"source": row.source, "payload": row.payload} for row in rows]
    assert len(stored) == stats["app_sightings_accepted"] and {e["source"] for e in stored} == {"app"}
    subjects = {s["subject_id"] for s in visitors.truth.shoppers.values() if "subject_id" in s}
    dump = orjson.dumps(stored).decode()
    assert subjects and not [subject for subject in subjects if subject in dump]
    assert all(e["payload"]["subject"][:3] in ("pd_", "ps_") for e in stored)
