"""Tenants, sites and devices: who owns what. Every read takes the tenant it is scoped to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from tradeoff.core.ids import new_id
from tradeoff.platform.db.tables import devices, sites, tenants

TENANT_KINDS = ("merchant", "vending_operator")
SITE_KINDS = ("store", "vending_site", "depot", "warehouse")
DEVICE_KINDS = ("gateway", "vending_machine", "camera", "pos", "signage", "sensor", "app")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$")


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    slug: str
    name: str
    kind: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    tenant_id: str
    name: str
    kind: str
    timezone: str
    floor_plan: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    tenant_id: str
    site_id: str | None
    external_id: str
    kind: str
    name: str
    created_at: datetime


def _choice(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidInput(field, f"must be one of {', '.join(allowed)}; got {value!r}")


def create_tenant(conn: Connection, *, slug: str, name: str, kind: str = "merchant") -> Tenant:
    if not _SLUG.match(slug):
        raise InvalidInput("slug", "3-48 chars of a-z, 0-9 and '-', not starting or ending with '-'")
    _choice("kind", kind, TENANT_KINDS)
    if not name.strip():
        raise InvalidInput("name", "must not be empty")
    tenant = Tenant(id=new_id(), slug=slug, name=name.strip(), kind=kind, created_at=utcnow())
    try:
        with conn.begin_nested():
            conn.execute(insert(tenants).values(**_asdict(tenant)))
    except IntegrityError as exc:
        raise Conflict(f"tenant slug {slug!r} already exists") from exc
    return tenant


def _asdict(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def list_tenants(conn: Connection) -> list[Tenant]:
    return [Tenant(**row._mapping) for row in conn.execute(select(tenants).order_by(tenants.c.slug))]


def get_tenant(conn: Connection, tenant_id: str) -> Tenant:
    row = conn.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
    if row is None:
        raise NotFound(f"tenant {tenant_id} not found")
    return Tenant(**row._mapping)


def find_tenant_by_slug(conn: Connection, slug: str) -> Tenant | None:
    row = conn.execute(select(tenants).where(tenants.c.slug == slug)).first()
    return Tenant(**row._mapping) if row else None


def tenant_by_ref(conn: Connection, ref: str) -> Tenant:
    """A tenant named by slug or id (the CLI accepts both)."""
    tenant = find_tenant_by_slug(conn, ref)
    if tenant is None:
        row = conn.execute(select(tenants).where(tenants.c.id == ref)).first()
        if row is None:
            raise NotFound(f"no tenant with slug or id {ref!r}")
        tenant = Tenant(**row._mapping)
    return tenant


def create_site(
    conn: Connection,
    *,
    tenant_id: str,
    name: str,
    kind: str = "store",
    timezone: str = "UTC",
    floor_plan: dict[str, Any] | None = None,
) -> Site:
    _choice("kind", kind, SITE_KINDS)
    if not name.strip():
        raise InvalidInput("name", "must not be empty")
    site = Site(
        id=new_id(),
        tenant_id=tenant_id,
        name=name.strip(),
        kind=kind,
        timezone=timezone,
        floor_plan=floor_plan or {"width_m": 0, "height_m": 0, "zones": []},
        created_at=utcnow(),
    )
    conn.execute(insert(sites).values(**_asdict(site)))
    return site


def list_sites(conn: Connection, *, tenant_id: str) -> list[Site]:
    query = select(sites).where(sites.c.tenant_id == tenant_id).order_by(sites.c.name)
    return [Site(**row._mapping) for row in conn.execute(query)]


def get_site(conn: Connection, *, tenant_id: str, site_id: str) -> Site:
    row = conn.execute(select(sites).where(sites.c.id == site_id)).first()
    if row is None:
        raise NotFound(f"site {site_id} not found")
    if row.tenant_id != tenant_id:
        raise Forbidden(f"site {site_id} belongs to another tenant")
    return Site(**row._mapping)


def create_device(
    conn: Connection,
    *,
    tenant_id: str,
    external_id: str,
    kind: str,
    name: str = "",
    site_id: str | None = None,
) -> Device:
    _choice("kind", kind, DEVICE_KINDS)
    if not re.fullmatch(r"[A-Za-z0-9_.:\-]{1,128}", external_id):
        raise InvalidInput("external_id", "1-128 chars of letters, digits and _ . : -")
    if site_id is not None:
        get_site(conn, tenant_id=tenant_id, site_id=site_id)
    device = Device(
        id=new_id(),
        tenant_id=tenant_id,
        site_id=site_id,
        external_id=external_id,
        kind=kind,
        name=name.strip() or external_id,
        created_at=utcnow(),
    )
    try:
        with conn.begin_nested():
            conn.execute(insert(devices).values(**_asdict(device)))
    except IntegrityError as exc:
        raise Conflict(f"device {external_id!r} already exists in this tenant") from exc
    return device


def list_devices(conn: Connection, *, tenant_id: str) -> list[Device]:
    query = select(devices).where(devices.c.tenant_id == tenant_id).order_by(devices.c.external_id)
    return [Device(**row._mapping) for row in conn.execute(query)]


def get_device(conn: Connection, *, tenant_id: str, device_id: str) -> Device:
    row = conn.execute(select(devices).where(devices.c.id == device_id)).first()
    if row is None:
        raise NotFound(f"device {device_id} not found")
    if row.tenant_id != tenant_id:
        raise Forbidden(f"device {device_id} belongs to another tenant")
    return Device(**row._mapping)
