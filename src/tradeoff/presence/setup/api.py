"""``/v1/sites/{site_id}/…``: the floor plan (and its image), beacons, gateway placements.

Admins and staff of the site's tenant set a store up (small businesses have no IT department); another
tenant's site, beacon or device is 403, a missing one 404. The image is uploaded as the raw request body
(``curl -T plan.png -H 'Content-Type: image/png'``) and served only with a sandboxing CSP.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import InvalidInput
from tradeoff.platform.auth import Principal
from tradeoff.platform.http.deps import READERS, ConnDep, roles
from tradeoff.presence.setup import service
from tradeoff.presence.setup.beacons import MAX_CATEGORIES, MAX_PRODUCTS, identity_from_parts, identity_of
from tradeoff.presence.setup.floorplan import MAX_POINTS, MAX_ZONES
from tradeoff.presence.setup.image import IMAGE_HEADERS
from tradeoff.presence.setup.service import BeaconView, FloorPlanView, GatewayView

router = APIRouter(prefix="/v1/sites/{site_id}", tags=["store setup"])
Manager = Annotated[Principal, roles(*READERS)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneIn(_Body):
    name: str = Field(min_length=1, max_length=48, description="slug: a-z, 0-9, '_' and '-'")
    label: str = Field(default="", max_length=100)
    polygon: list[list[float]] = Field(max_length=MAX_POINTS, description="[[x, y], …] in metres, origin bottom-left")


class FloorPlanIn(_Body):
    width_m: float = Field(gt=0)
    height_m: float = Field(gt=0)
    zones: list[ZoneIn] = Field(default_factory=list, max_length=MAX_ZONES)


class BeaconIn(_Body):
    kind: str = Field(description="ibeacon | eddystone | altbeacon")
    id: str | None = Field(default=None, max_length=128, description="canonical id, e.g. <uuid>/<major>/<minor>")
    uuid: str | None = None
    major: int | None = None
    minor: int | None = None
    namespace: str | None = None
    instance: str | None = None
    id1: str | None = None
    id2: int | None = None
    id3: int | None = None
    label: str = Field(default="", max_length=200)
    x_m: float | None = None
    y_m: float | None = None
    zone: str | None = Field(default=None, max_length=48)
    measured_power: int | None = Field(default=None, description="dBm at 1 m")
    skus: list[str] = Field(default_factory=list, max_length=MAX_PRODUCTS)
    categories: list[str] = Field(default_factory=list, max_length=MAX_CATEGORIES)


class BeaconPatch(_Body):
    label: str | None = Field(default=None, max_length=200)
    x_m: float | None = None
    y_m: float | None = None
    zone: str | None = Field(default=None, max_length=48)
    measured_power: int | None = None
    skus: list[str] | None = Field(default=None, max_length=MAX_PRODUCTS)
    categories: list[str] | None = Field(default=None, max_length=MAX_CATEGORIES)


class ProductsIn(_Body):
    skus: list[str] = Field(default_factory=list, max_length=MAX_PRODUCTS)
    categories: list[str] | None = Field(default=None, max_length=MAX_CATEGORIES)


class PlacementIn(_Body):
    x_m: float
    y_m: float
    zone: str | None = Field(default=None, max_length=48)


def plan_json(view: FloorPlanView) -> dict[str, Any]:
    image = None
    if view.image is not None:
        image = {**asdict(view.image), "url": f"/v1/sites/{view.site_id}/floor-plan/image"}
    return {"site_id": view.site_id, "plan": view.plan.to_json() if view.plan else None, "image": image}


def beacon_json(view: BeaconView) -> dict[str, Any]:
    out = asdict(view.beacon)
    out["key"] = view.beacon.key
    out["status"] = asdict(view.status) if view.status else None
    out["health"] = view.health
    out["low_battery"] = bool(view.status and view.status.low_battery)
    return out


def _beacon(conn: ConnDep, principal: Principal, site_id: str, beacon_id: str) -> dict[str, Any]:
    view = service.beacon_view(conn, tenant_id=principal.tenant_id, site_id=site_id, beacon_id=beacon_id, now=utcnow())
    return beacon_json(view)


async def _raw_body(request: Request) -> bytes:
    return await request.body()


# -- floor plan -------------------------------------------------------------------------------------------


@router.get("/floor-plan", summary="The site's floor plan (zones in metres) and background image")
def get_floor_plan(conn: ConnDep, principal: Manager, site_id: str) -> dict[str, Any]:
    return plan_json(service.get_floor_plan(conn, tenant_id=principal.tenant_id, site_id=site_id))


@router.put("/floor-plan", summary="Replace the floor plan (size and zones)")
def put_floor_plan(conn: ConnDep, principal: Manager, site_id: str, body: FloorPlanIn) -> dict[str, Any]:
    service.save_floor_plan(conn, tenant_id=principal.tenant_id, site_id=site_id, plan=body.model_dump())
    return plan_json(service.get_floor_plan(conn, tenant_id=principal.tenant_id, site_id=site_id))


@router.put("/floor-plan/image", summary="Upload the background image (PNG, JPEG or SVG; raw body, ≤ 2 MiB)")
def put_floor_plan_image(
    conn: ConnDep, principal: Manager, site_id: str, data: Annotated[bytes, Depends(_raw_body)]
) -> dict[str, Any]:
    service.set_floor_plan_image(conn, tenant_id=principal.tenant_id, site_id=site_id, data=data)
    return plan_json(service.get_floor_plan(conn, tenant_id=principal.tenant_id, site_id=site_id))


@router.get("/floor-plan/image", summary="The background image", response_class=Response)
def get_floor_plan_image(conn: ConnDep, principal: Manager, site_id: str) -> Response:
    meta, data = service.get_floor_plan_image(conn, tenant_id=principal.tenant_id, site_id=site_id)
    headers = {**IMAGE_HEADERS, "ETag": f'"{meta.sha256}"'}
    return Response(content=data, media_type=meta.content_type, headers=headers)


@router.delete("/floor-plan/image", status_code=status.HTTP_204_NO_CONTENT)
def delete_floor_plan_image(conn: ConnDep, principal: Manager, site_id: str) -> None:
    service.delete_floor_plan_image(conn, tenant_id=principal.tenant_id, site_id=site_id)


# -- beacons ----------------------------------------------------------------------------------------------


@router.get("/beacons", summary="Beacons with last sighting, battery and health (fresh/stale/never/low-battery)")
def list_beacons(conn: ConnDep, principal: Manager, site_id: str) -> dict[str, Any]:
    views = service.list_beacons(conn, tenant_id=principal.tenant_id, site_id=site_id, now=utcnow())
    return {"beacons": [beacon_json(view) for view in views]}


@router.post("/beacons", status_code=status.HTTP_201_CREATED, summary="Register a beacon (optionally placed)")
def create_beacon(conn: ConnDep, principal: Manager, site_id: str, body: BeaconIn) -> dict[str, Any]:
    fields = body.model_dump()
    identity = identity_of(body.kind, body.id) if body.id else identity_from_parts(body.kind, fields)
    beacon = service.add_beacon(
        conn,
        tenant_id=principal.tenant_id,
        site_id=site_id,
        identity=identity,
        label=body.label,
        x_m=body.x_m,
        y_m=body.y_m,
        zone=body.zone,
        measured_power=body.measured_power,
        skus=body.skus,
        categories=body.categories,
    )
    return _beacon(conn, principal, site_id, beacon.id)


@router.get("/beacons/{beacon_id}")
def get_beacon(conn: ConnDep, principal: Manager, site_id: str, beacon_id: str) -> dict[str, Any]:
    return _beacon(conn, principal, site_id, beacon_id)


@router.patch("/beacons/{beacon_id}", summary="Rename, move (x/y; the zone follows), re-zone or re-attach")
def patch_beacon(conn: ConnDep, principal: Manager, site_id: str, beacon_id: str, body: BeaconPatch) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("body", "nothing to change")
    service.update_beacon(conn, tenant_id=principal.tenant_id, site_id=site_id, beacon_id=beacon_id, **changes)
    return _beacon(conn, principal, site_id, beacon_id)


@router.put("/beacons/{beacon_id}/products", summary="Replace the SKUs (and categories) attached to a beacon")
def put_products(conn: ConnDep, principal: Manager, site_id: str, beacon_id: str, body: ProductsIn) -> dict[str, Any]:
    service.attach_products(
        conn,
        tenant_id=principal.tenant_id,
        site_id=site_id,
        beacon_id=beacon_id,
        skus=body.skus,
        categories=body.categories,
    )
    return _beacon(conn, principal, site_id, beacon_id)


@router.delete("/beacons/{beacon_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_beacon(conn: ConnDep, principal: Manager, site_id: str, beacon_id: str) -> None:
    service.delete_beacon(conn, tenant_id=principal.tenant_id, site_id=site_id, beacon_id=beacon_id)


# -- gateways ---------------------------------------------------------------------------------------------


def gateway_json(view: GatewayView) -> dict[str, Any]:
    return asdict(view)


@router.get("/gateways", summary="Gateways of the site with their place on the plan and last contact")
def list_gateways(conn: ConnDep, principal: Manager, site_id: str) -> dict[str, Any]:
    views = service.list_gateways(conn, tenant_id=principal.tenant_id, site_id=site_id)
    return {"gateways": [gateway_json(view) for view in views]}


@router.put("/gateways/{device_id}/placement", summary="Place (or move) a gateway on the plan")
def put_placement(conn: ConnDep, principal: Manager, site_id: str, device_id: str, body: PlacementIn) -> dict[str, Any]:
    view = service.place_gateway(
        conn,
        tenant_id=principal.tenant_id,
        site_id=site_id,
        device_id=device_id,
        x_m=body.x_m,
        y_m=body.y_m,
        zone=body.zone,
    )
    return gateway_json(view)


@router.delete("/gateways/{device_id}/placement", status_code=status.HTTP_204_NO_CONTENT)
def delete_placement(conn: ConnDep, principal: Manager, site_id: str, device_id: str) -> None:
    service.remove_gateway_placement(conn, tenant_id=principal.tenant_id, site_id=site_id, device_id=device_id)
