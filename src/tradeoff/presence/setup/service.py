"""Store-setup use cases: save the plan, register and place beacons, attach products, place gateways.

Every function takes the tenant it works for; another tenant's site, beacon or device is ``Forbidden``
(through ``tenancy.get_site`` / ``get_device``), a missing one ``NotFound``. A beacon's zone follows its
position unless the caller names one; when a plan change removes a zone, what stood in it is re-zoned.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import Conflict, InvalidInput, NotFound
from tradeoff.core.ids import new_id
from tradeoff.platform import tenancy
from tradeoff.platform.db.tables import sites
from tradeoff.platform.device_state import list_device_status
from tradeoff.presence.gateways.sighting import Identity
from tradeoff.presence.setup import floorplan
from tradeoff.presence.setup.beacons import (
    MAX_CATEGORIES,
    MAX_PRODUCTS,
    BeaconStatus,
    Health,
    check_power,
    check_products,
    health,
)
from tradeoff.presence.setup.floorplan import Plan
from tradeoff.presence.setup.image import sniff
from tradeoff.presence.setup.store import (
    setup_beacon_status,
    setup_beacons,
    setup_floor_plan_images,
    setup_gateway_placements,
)
from tradeoff.presence.tracking.zones import Receiver

PLAN_KEYS = frozenset({"width_m", "height_m", "origin", "zones"})  # what the plan editor owns; other keys are kept
DEFAULT_POWER = -59  # dBm at 1 m: the common iBeacon calibration when a beacon does not say
_KEEP: Any = object()  # "not given" for optional updates (None means "clear")


@dataclass(frozen=True, slots=True)
class ImageMeta:
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class FloorPlanView:
    site_id: str
    site_name: str
    plan: Plan | None
    image: ImageMeta | None


@dataclass(frozen=True, slots=True)
class Beacon:
    id: str
    tenant_id: str
    site_id: str
    kind: str
    identity_id: str
    label: str
    x_m: float | None
    y_m: float | None
    zone: str | None
    measured_power: int | None
    skus: list[str]
    categories: list[str]
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> str:
        """``<kind>:<id>``: the ``Identity.key`` of the sightings that name this beacon."""
        return f"{self.kind}:{self.identity_id}"


@dataclass(frozen=True, slots=True)
class BeaconView:
    beacon: Beacon
    status: BeaconStatus | None
    health: Health


@dataclass(frozen=True, slots=True)
class GatewayView:
    device_id: str
    external_id: str
    name: str
    site_id: str | None
    x_m: float | None
    y_m: float | None
    zone: str | None
    last_seen_at: datetime | None


# -- floor plan -------------------------------------------------------------------------------------------


def get_floor_plan(conn: Connection, *, tenant_id: str, site_id: str) -> FloorPlanView:
    site = tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    return FloorPlanView(site.id, site.name, floorplan.stored_plan(site.floor_plan), _image_meta(conn, site.id))


def save_floor_plan(conn: Connection, *, tenant_id: str, site_id: str, plan: Any) -> Plan:
    """Validate and store the plan (keys other tools keep in ``sites.floor_plan`` stay); beacons and
    gateways whose zone is gone are re-zoned by position."""
    site = tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    parsed = floorplan.parse_plan(plan)
    kept = {key: value for key, value in site.floor_plan.items() if key not in PLAN_KEYS}  # e.g. "receivers"
    conn.execute(
        update(sites)
        .where(sites.c.id == site_id, sites.c.tenant_id == tenant_id)
        .values(floor_plan={**kept, **parsed.to_json()})
    )
    names = {zone.name for zone in parsed.zones}
    now = utcnow()
    for table, key in (
        (setup_beacons, setup_beacons.c.id),
        (setup_gateway_placements, setup_gateway_placements.c.device_id),
    ):
        query = select(key, table.c.x_m, table.c.y_m, table.c.zone).where(
            table.c.tenant_id == tenant_id, table.c.site_id == site_id
        )
        for row_key, x_m, y_m, old_zone in conn.execute(query).all():
            if old_zone in names:
                continue
            zone = parsed.zone_at((x_m, y_m)) if x_m is not None and y_m is not None else None
            if zone != old_zone:
                conn.execute(update(table).where(key == row_key).values(zone=zone, updated_at=now))
    return parsed


def _require_plan(conn: Connection, *, tenant_id: str, site_id: str) -> Plan:
    plan = get_floor_plan(conn, tenant_id=tenant_id, site_id=site_id).plan
    if plan is None:
        raise Conflict("this site has no floor plan yet: save one first (width and height in metres)")
    return plan


def _place(plan: Plan, x_m: float | None, y_m: float | None, zone: str | None) -> str | None:
    """The zone a position is in (or the named one, which must exist); positions must be on the plan."""
    if (x_m is None) != (y_m is None):
        raise InvalidInput("x_m" if x_m is None else "y_m", "give both coordinates or neither")
    if x_m is not None and y_m is not None and not plan.inside((x_m, y_m)):
        raise InvalidInput("x_m", f"({x_m:g}, {y_m:g}) is outside the {plan.width_m:g} × {plan.height_m:g} m plan")
    if zone:
        if plan.zone(zone) is None:
            raise InvalidInput("zone", f"no zone {zone!r} on this plan")
        return zone
    return plan.zone_at((x_m, y_m)) if x_m is not None and y_m is not None else None


def set_floor_plan_image(conn: Connection, *, tenant_id: str, site_id: str, data: bytes) -> ImageMeta:
    tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    meta = ImageMeta(sniff(data), len(data), hashlib.sha256(data).hexdigest(), utcnow())
    conn.execute(delete(setup_floor_plan_images).where(setup_floor_plan_images.c.site_id == site_id))
    values = {"site_id": site_id, "tenant_id": tenant_id, "data": data, **_fields(meta)}
    conn.execute(insert(setup_floor_plan_images).values(**values))
    return meta


def get_floor_plan_image(conn: Connection, *, tenant_id: str, site_id: str) -> tuple[ImageMeta, bytes]:
    tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    row = conn.execute(select(setup_floor_plan_images).where(setup_floor_plan_images.c.site_id == site_id)).first()
    if row is None:
        raise NotFound("this floor plan has no background image")
    return ImageMeta(row.content_type, row.size, row.sha256, row.uploaded_at), bytes(row.data)


def delete_floor_plan_image(conn: Connection, *, tenant_id: str, site_id: str) -> None:
    tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    conn.execute(delete(setup_floor_plan_images).where(setup_floor_plan_images.c.site_id == site_id))


def _image_meta(conn: Connection, site_id: str) -> ImageMeta | None:
    t = setup_floor_plan_images
    row = conn.execute(select(t.c.content_type, t.c.size, t.c.sha256, t.c.uploaded_at).where(t.c.site_id == site_id))
    found = row.first()
    return ImageMeta(found.content_type, found.size, found.sha256, found.uploaded_at) if found else None


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


# -- beacons ----------------------------------------------------------------------------------------------


def add_beacon(
    conn: Connection,
    *,
    tenant_id: str,
    site_id: str,
    identity: Identity,
    label: str = "",
    x_m: float | None = None,
    y_m: float | None = None,
    zone: str | None = None,
    measured_power: int | None = None,
    skus: list[str] | None = None,
    categories: list[str] | None = None,
) -> Beacon:
    plan = _require_plan(conn, tenant_id=tenant_id, site_id=site_id)
    if identity.kind not in ("ibeacon", "eddystone", "altbeacon"):
        raise InvalidInput("kind", "only ibeacon, eddystone and altbeacon beacons can be registered")
    now = utcnow()
    beacon = Beacon(
        id=new_id(),
        tenant_id=tenant_id,
        site_id=site_id,
        kind=identity.kind,
        identity_id=identity.id,
        label=label.strip()[:200] or identity.id,
        x_m=x_m,
        y_m=y_m,
        zone=_place(plan, x_m, y_m, zone),
        measured_power=check_power(measured_power),
        skus=check_products(skus, field="skus", limit=MAX_PRODUCTS),
        categories=check_products(categories, field="categories", limit=MAX_CATEGORIES),
        created_at=now,
        updated_at=now,
    )
    try:
        with conn.begin_nested():
            conn.execute(insert(setup_beacons).values(**_fields(beacon)))
    except IntegrityError as exc:
        raise Conflict(f"beacon {identity.key} is already registered") from exc
    return beacon


def get_beacon(conn: Connection, *, tenant_id: str, site_id: str, beacon_id: str) -> Beacon:
    tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    row = conn.execute(
        select(setup_beacons).where(
            setup_beacons.c.id == beacon_id, setup_beacons.c.tenant_id == tenant_id, setup_beacons.c.site_id == site_id
        )
    ).first()
    if row is None:
        raise NotFound(f"beacon {beacon_id} not found at this site")
    return Beacon(**row._mapping)


def update_beacon(
    conn: Connection,
    *,
    tenant_id: str,
    site_id: str,
    beacon_id: str,
    label: str = _KEEP,
    x_m: float | None = _KEEP,
    y_m: float | None = _KEEP,
    zone: str | None = _KEEP,
    measured_power: int | None = _KEEP,
    skus: list[str] = _KEEP,
    categories: list[str] = _KEEP,
) -> Beacon:
    """Change what is given: moving (x/y) re-derives the zone unless ``zone`` is given too."""
    beacon = get_beacon(conn, tenant_id=tenant_id, site_id=site_id, beacon_id=beacon_id)
    plan = _require_plan(conn, tenant_id=tenant_id, site_id=site_id)
    changes: dict[str, Any] = {}
    if label is not _KEEP:
        changes["label"] = (label or "").strip()[:200] or beacon.identity_id
    moved = x_m is not _KEEP or y_m is not _KEEP
    new_x = beacon.x_m if x_m is _KEEP else x_m
    new_y = beacon.y_m if y_m is _KEEP else y_m
    if moved or zone is not _KEEP:
        wanted = zone if zone is not _KEEP else (None if moved else beacon.zone)
        changes |= {"x_m": new_x, "y_m": new_y, "zone": _place(plan, new_x, new_y, wanted)}
    if measured_power is not _KEEP:
        changes["measured_power"] = check_power(measured_power)
    if skus is not _KEEP:
        changes["skus"] = check_products(skus, field="skus", limit=MAX_PRODUCTS)
    if categories is not _KEEP:
        changes["categories"] = check_products(categories, field="categories", limit=MAX_CATEGORIES)
    if not changes:
        return beacon
    changes["updated_at"] = utcnow()
    conn.execute(update(setup_beacons).where(setup_beacons.c.id == beacon.id).values(**changes))
    return replace(beacon, **changes)


def move_beacon(
    conn: Connection, *, tenant_id: str, site_id: str, beacon_id: str, x_m: float, y_m: float, zone: str | None = None
) -> Beacon:
    return update_beacon(
        conn, tenant_id=tenant_id, site_id=site_id, beacon_id=beacon_id, x_m=x_m, y_m=y_m, zone=zone or _KEEP
    )


def attach_products(
    conn: Connection,
    *,
    tenant_id: str,
    site_id: str,
    beacon_id: str,
    skus: list[str],
    categories: list[str] | None = None,
) -> Beacon:
    """Replace the SKUs (and, when given, categories) a beacon stands for: what offers near it are about."""
    return update_beacon(
        conn,
        tenant_id=tenant_id,
        site_id=site_id,
        beacon_id=beacon_id,
        skus=skus,
        categories=_KEEP if categories is None else categories,
    )


def delete_beacon(conn: Connection, *, tenant_id: str, site_id: str, beacon_id: str) -> None:
    beacon = get_beacon(conn, tenant_id=tenant_id, site_id=site_id, beacon_id=beacon_id)
    conn.execute(delete(setup_beacon_status).where(setup_beacon_status.c.beacon_id == beacon.id))
    conn.execute(delete(setup_beacons).where(setup_beacons.c.id == beacon.id))


def beacon_view(
    conn: Connection, *, tenant_id: str, site_id: str, beacon_id: str, now: datetime | None = None
) -> BeaconView:
    """One beacon with its status (``NotFound`` when the site has no such beacon)."""
    found = list_beacons(conn, tenant_id=tenant_id, site_id=site_id, now=now, only=beacon_id)
    if not found:
        raise NotFound(f"beacon {beacon_id} not found at this site")
    return found[0]


def list_beacons(
    conn: Connection, *, tenant_id: str, site_id: str, now: datetime | None = None, only: str | None = None
) -> list[BeaconView]:
    """The site's beacons with their last sighting and battery, by label."""
    tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    b, s = setup_beacons, setup_beacon_status
    query = (
        select(
            b, *[column.label(f"s_{column.name}") for column in s.c if column.name not in ("beacon_id", "tenant_id")]
        )
        .select_from(b.outerjoin(s, s.c.beacon_id == b.c.id))
        .where(b.c.tenant_id == tenant_id, b.c.site_id == site_id)
        .order_by(b.c.label, b.c.id)
    )
    if only is not None:
        query = query.where(b.c.id == only)
    at = now or utcnow()
    out = []
    for row in conn.execute(query):
        values = row._mapping
        beacon = Beacon(**{column.name: values[column.name] for column in b.c})
        status = None
        if values["s_last_seen_at"] is not None:
            status = BeaconStatus(**{name: values[f"s_{name}"] for name in BeaconStatus.__slots__})
        out.append(BeaconView(beacon, status, health(status, at)))
    return out


# -- gateways ---------------------------------------------------------------------------------------------


def place_gateway(
    conn: Connection, *, tenant_id: str, site_id: str, device_id: str, x_m: float, y_m: float, zone: str | None = None
) -> GatewayView:
    """Put a gateway on the plan (it must be a gateway of this tenant, at this site or at none)."""
    device = tenancy.get_device(conn, tenant_id=tenant_id, device_id=device_id)
    plan = _require_plan(conn, tenant_id=tenant_id, site_id=site_id)
    if device.kind != "gateway":
        raise InvalidInput("device_id", f"device {device.external_id!r} is a {device.kind}, not a gateway")
    if device.site_id not in (None, site_id):
        raise Conflict(f"gateway {device.external_id!r} belongs to another site")
    values = {"tenant_id": tenant_id, "site_id": site_id, "x_m": x_m, "y_m": y_m, "zone": _place(plan, x_m, y_m, zone)}
    values["updated_at"] = utcnow()
    t = setup_gateway_placements
    conn.execute(delete(t).where(t.c.device_id == device.id))
    conn.execute(insert(t).values(device_id=device.id, **values))
    found = [g for g in list_gateways(conn, tenant_id=tenant_id, site_id=site_id) if g.device_id == device.id]
    return found[0]


def remove_gateway_placement(conn: Connection, *, tenant_id: str, site_id: str, device_id: str) -> None:
    tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    device = tenancy.get_device(conn, tenant_id=tenant_id, device_id=device_id)
    t = setup_gateway_placements
    conn.execute(delete(t).where(t.c.device_id == device.id, t.c.site_id == site_id))


def list_gateways(conn: Connection, *, tenant_id: str, site_id: str) -> list[GatewayView]:
    """Gateways registered at the site or placed on its plan, with placement and last contact."""
    tenancy.get_site(conn, tenant_id=tenant_id, site_id=site_id)
    t = setup_gateway_placements
    placed = {
        row.device_id: row for row in conn.execute(select(t).where(t.c.tenant_id == tenant_id, t.c.site_id == site_id))
    }
    seen = {status.source: status.last_seen_at for status in list_device_status(conn, tenant_id=tenant_id)}
    out = []
    for device in tenancy.list_devices(conn, tenant_id=tenant_id):
        if device.kind != "gateway" or (device.site_id != site_id and device.id not in placed):
            continue
        row = placed.get(device.id)
        out.append(
            GatewayView(
                device_id=device.id,
                external_id=device.external_id,
                name=device.name,
                site_id=device.site_id,
                x_m=row.x_m if row else None,
                y_m=row.y_m if row else None,
                zone=row.zone if row else None,
                last_seen_at=seen.get(device.external_id),
            )
        )
    return out


def unplaced_gateways(conn: Connection, *, tenant_id: str) -> list[tenancy.Device]:
    """Gateways of the tenant with no site and no placement yet (candidates for a plan)."""
    t = setup_gateway_placements
    placed = set(conn.execute(select(t.c.device_id).where(t.c.tenant_id == tenant_id)).scalars())
    return [
        d
        for d in tenancy.list_devices(conn, tenant_id=tenant_id)
        if d.kind == "gateway" and d.site_id is None and d.id not in placed
    ]


# -- for zone estimation ----------------------------------------------------------------------------------


def receivers(conn: Connection, *, tenant_id: str, site_id: str) -> dict[str, Receiver]:
    """``PathLossZones`` receivers from the plan: gateways by external id (they hear beacons and
    phones), beacons by identity key (when the shopper's phone is the listener, with their 1 m power)."""
    out: dict[str, Receiver] = {}
    for gateway in list_gateways(conn, tenant_id=tenant_id, site_id=site_id):
        if gateway.zone is not None:
            out[gateway.external_id] = Receiver(zone=gateway.zone)
    for view in list_beacons(conn, tenant_id=tenant_id, site_id=site_id):
        beacon = view.beacon
        if beacon.zone is not None:
            power = beacon.measured_power if beacon.measured_power is not None else DEFAULT_POWER
            out[beacon.key] = Receiver(zone=beacon.zone, measured_power=float(power))
    return out
