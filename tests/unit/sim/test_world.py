from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradeoff.core.errors import Unauthenticated
from tradeoff.platform import tenancy
from tradeoff.platform.auth import Role, authenticate_key, authenticate_user, create_user
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.migrate import upgrade
from tradeoff.sim.seed import DEMO_PASSWORD, DEMO_USERNAME, seed_world
from tradeoff.sim.world import STORE_PLAN, demo_world


def test_demo_world_is_consistent() -> None:
    world = demo_world()
    zones = {zone.name for zone in STORE_PLAN.zones}
    assert {"entrance", "checkout", "produce", "dairy"} <= zones
    assert {d.zone for d in world.devices_of("gateway")} == zones  # one BLE gateway per zone
    assert len(world.devices_of("vending_machine")) == 2
    assert [d.kind for d in world.devices_of("camera")] == ["camera"]
    assert world.device("cam-entrance").zone == "entrance"
    for device in world.devices:
        assert device.kind in tenancy.DEVICE_KINDS
        site = world.site(device.site)
        if device.zone is not None:
            assert site.floor_plan is not None and device.position is not None
            assert site.floor_plan.zone_at(device.position) == site.floor_plan.zone(device.zone), device
    assert all(site.kind in tenancy.SITE_KINDS for site in world.sites)
    assert len({d.external_id for d in world.devices}) == len(world.devices)
    assert world.with_slug("other").tenant_slug == "other"


def test_floor_plan_zones_tile_the_store() -> None:
    def area(polygon: tuple[tuple[float, float], ...]) -> float:
        n = len(polygon)
        return (
            abs(
                sum(polygon[i][0] * polygon[(i + 1) % n][1] - polygon[(i + 1) % n][0] * polygon[i][1] for i in range(n))
            )
            / 2
        )

    assert sum(area(z.polygon) for z in STORE_PLAN.zones) == STORE_PLAN.width_m * STORE_PLAN.height_m
    for x in range(1, 40, 3):
        for y in range(1, 25, 3):
            inside = [z.name for z in STORE_PLAN.zones if z.contains((x + 0.5, y + 0.5))]
            assert len(inside) == 1, (x, y, inside)
    doc = STORE_PLAN.to_json()
    assert doc["width_m"] == 40 and doc["zones"][0]["polygon"][0] == [0, 0]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path}/t.db"
    upgrade(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def test_seed_world_is_idempotent_and_rotates_keys(engine: Engine) -> None:
    world = demo_world()
    with engine.begin() as conn:
        first = seed_world(conn, world)
    with engine.begin() as conn:
        second = seed_world(conn, world)
    assert first.created and not second.created
    assert first.tenant_id == second.tenant_id and second.tenant_slug == "demo"
    with engine.begin() as conn:
        assert [t.slug for t in tenancy.list_tenants(conn)] == ["demo"]
        sites = tenancy.list_sites(conn, tenant_id=first.tenant_id)
        assert sorted(s.name for s in sites) == sorted(s.name for s in world.sites)
        store = next(s for s in sites if s.kind == "store")
        assert store.floor_plan == STORE_PLAN.to_json()
        devices = tenancy.list_devices(conn, tenant_id=first.tenant_id)
        assert sorted(d.external_id for d in devices) == sorted(d.external_id for d in world.devices)
        assert all(d.site_id for d in devices)
        # the newest keys work and speak for their own device; the previous ones are revoked
        assert second.admin_key is not None and first.admin_key is not None
        assert authenticate_key(conn, second.admin_key).role is Role.ADMIN
        principal = authenticate_key(conn, second.device_keys["vm-1"])
        assert (principal.role, principal.device_external_id) == (Role.DEVICE, "vm-1")
        assert set(second.device_keys) == {d.external_id for d in world.devices}
        for old in (first.admin_key, first.device_keys["vm-1"]):
            with pytest.raises(Unauthenticated, match="revoked"):
                authenticate_key(conn, old)
        login = authenticate_user(conn, username=DEMO_USERNAME, password=DEMO_PASSWORD)
        assert login.tenant_id == first.tenant_id and login.role is Role.ADMIN
    assert (second.username, second.password) == (DEMO_USERNAME, DEMO_PASSWORD)


def test_seed_world_options(engine: Engine) -> None:
    with engine.begin() as conn:
        other = tenancy.create_tenant(conn, slug="other", name="Other")
        create_user(conn, tenant_id=other.id, username="demo", password="something else", role=Role.ADMIN)
        creds = seed_world(conn, demo_world("shop"), admin_key=False, device_keys=["vm-2"])
    assert creds.admin_key is None and list(creds.device_keys) == ["vm-2"]
    assert creds.username is None and creds.password is None  # the name is taken elsewhere: no login claimed
