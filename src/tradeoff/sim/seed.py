"""Write a world into the database: tenant, sites, devices, a dashboard user and fresh API keys.

Idempotent: an existing tenant (by slug), site (by name), device (by external id) or user is reused.
API keys cannot be reused (only their hashes are stored), so each seeding *rotates* them: the keys a
previous seeding issued under the same names are revoked and new ones are returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection

from tradeoff.core.errors import Conflict, Unauthenticated
from tradeoff.platform import tenancy
from tradeoff.platform.auth import (
    Role,
    authenticate_user,
    create_api_key,
    create_user,
    list_api_keys,
    revoke_api_key,
)
from tradeoff.sim.world import World

# For the local demo only: printed on start-up and documented, never for a real deployment.
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
ADMIN_KEY_NAME = "demo:admin"


def device_key_name(external_id: str) -> str:
    return f"sim:{external_id}"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a simulator (and a person trying the demo) needs to talk to the platform."""

    tenant_id: str
    tenant_slug: str
    admin_key: str | None = None
    device_keys: Mapping[str, str] = field(default_factory=dict)  # device external id → secret
    username: str | None = None
    password: str | None = None  # both None when the name was taken with another password
    created: bool = False  # the tenant was created by this call


def seed_world(
    conn: Connection,
    world: World,
    *,
    username: str | None = DEMO_USERNAME,
    password: str = DEMO_PASSWORD,
    admin_key: bool = True,
    device_keys: bool | Iterable[str] = True,
) -> Credentials:
    """Create (or reuse) everything ``world`` describes in one transaction (the caller's ``conn``)."""
    tenant = tenancy.find_tenant_by_slug(conn, world.tenant_slug)
    created = tenant is None
    if tenant is None:
        tenant = tenancy.create_tenant(conn, slug=world.tenant_slug, name=world.tenant_name, kind=world.tenant_kind)
    site_ids = _ensure_sites(conn, tenant.id, world)
    device_ids = _ensure_devices(conn, tenant.id, world, site_ids)
    login = bool(username) and _ensure_user(conn, tenant.id, username or "", password)
    wanted = set(device_ids) if device_keys is True else set(device_keys or ())
    names = {device_key_name(ext): ext for ext in wanted}
    if admin_key:
        names[ADMIN_KEY_NAME] = ""
    _revoke_named(conn, tenant.id, set(names))
    admin_secret = None
    if admin_key:
        admin_secret = create_api_key(conn, tenant_id=tenant.id, role=Role.ADMIN, name=ADMIN_KEY_NAME).secret
    secrets = {
        ext: create_api_key(
            conn, tenant_id=tenant.id, role=Role.DEVICE, name=device_key_name(ext), device_id=device_ids[ext]
        ).secret
        for ext in sorted(wanted)
    }
    return Credentials(
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        admin_key=admin_secret,
        device_keys=secrets,
        username=username if login else None,
        password=password if login else None,
        created=created,
    )


def _ensure_sites(conn: Connection, tenant_id: str, world: World) -> dict[str, str]:
    existing = {site.name: site.id for site in tenancy.list_sites(conn, tenant_id=tenant_id)}
    ids: dict[str, str] = {}
    for spec in world.sites:
        if spec.name not in existing:
            existing[spec.name] = tenancy.create_site(
                conn,
                tenant_id=tenant_id,
                name=spec.name,
                kind=spec.kind,
                timezone=spec.timezone,
                floor_plan=spec.floor_plan.to_json() if spec.floor_plan else None,
            ).id
        ids[spec.key] = existing[spec.name]
    return ids


def _ensure_devices(conn: Connection, tenant_id: str, world: World, site_ids: dict[str, str]) -> dict[str, str]:
    existing = {d.external_id: d.id for d in tenancy.list_devices(conn, tenant_id=tenant_id)}
    for spec in world.devices:
        if spec.external_id not in existing:
            existing[spec.external_id] = tenancy.create_device(
                conn,
                tenant_id=tenant_id,
                external_id=spec.external_id,
                kind=spec.kind,
                name=spec.name,
                site_id=site_ids[spec.site],
            ).id
    return {spec.external_id: existing[spec.external_id] for spec in world.devices}


def _ensure_user(conn: Connection, tenant_id: str, username: str, password: str) -> bool:
    """Whether ``username``/``password`` logs in to this tenant (creating the user if the name is free)."""
    try:
        return authenticate_user(conn, username=username, password=password).tenant_id == tenant_id
    except Unauthenticated:
        try:
            create_user(conn, tenant_id=tenant_id, username=username, password=password, role=Role.ADMIN)
        except Conflict:
            return False  # the name is taken, with another password
        return True


def _revoke_named(conn: Connection, tenant_id: str, names: set[str]) -> None:
    for key in list_api_keys(conn, tenant_id=tenant_id):
        if key.revoked_at is None and key.name in names:
            revoke_api_key(conn, tenant_id=tenant_id, key_id=key.id)
