"""Store setup pages: ``/stores`` (the tenant's sites) and ``/stores/{site_id}`` (the plan as inline SVG
with zones, beacons coloured by health and gateways; forms to edit all of it).

Every edit is a plain HTML form post carrying the session's CSRF token, so the pages work without
JavaScript; ``static/store_setup.js`` only adds drawing (click to add zone points or pick a position)
and dragging markers (through the ``/v1`` API with the CSRF header). The background image is referenced
as an SVG ``<image>``, never inlined: a user's SVG cannot run script in the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from sqlalchemy import Connection
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import Conflict, InvalidInput, TradeoffError
from tradeoff.platform import tenancy
from tradeoff.platform.container import Platform
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.presence.setup import floorplan, service
from tradeoff.presence.setup.beacons import BEACON_KINDS, identity_of, split_list
from tradeoff.presence.setup.image import MAX_IMAGE_BYTES
from tradeoff.web.nav import add_nav_item
from tradeoff.web.render import UserDep, render
from tradeoff.web.session import CSRF_FIELD, csrf_valid

router = APIRouter(include_in_schema=False)

# Marker fills by health (presentation attributes: the page CSP allows no inline style).
HEALTH_COLOURS = {"fresh": "#1a7f37", "stale": "#9a6700", "never": "#8c959f", "low-battery": "#cf222e"}
ZONE_COLOURS = ("#0969da", "#8250df", "#bf3989", "#1a7f37", "#bc4c00", "#0a7480")
Csrf = Annotated[str, Form(alias=CSRF_FIELD, max_length=200)]
Text = Annotated[str, Form(max_length=2000)]


@dataclass(frozen=True, slots=True)
class Marker:
    id: str
    label: str
    x: float  # SVG coordinates: metres, y pointing down
    y: float
    colour: str


def _svg_y(plan: floorplan.Plan, y_m: float) -> float:
    return round(plan.height_m - y_m, 3)


def plan_drawing(
    plan: floorplan.Plan, beacons: list[service.BeaconView], gateways: list[service.GatewayView]
) -> dict[str, Any]:
    """What the template draws, in SVG coordinates (the plan's origin is bottom-left, SVG's top-left)."""
    size = max(plan.width_m, plan.height_m)
    zones = [
        {
            "name": zone.name,
            "label": zone.label,
            "points": " ".join(f"{x:g},{_svg_y(plan, y):g}" for x, y in zone.polygon),
            "cx": round(zone.centroid[0], 3),  # the label sits near the zone's top, clear of most markers
            "cy": round(_svg_y(plan, max(y for _, y in zone.polygon)) + size / 30, 3),
            "colour": ZONE_COLOURS[index % len(ZONE_COLOURS)],
        }
        for index, zone in enumerate(plan.zones)
    ]
    beacon_markers = [
        Marker(v.beacon.id, v.beacon.label, v.beacon.x_m, _svg_y(plan, v.beacon.y_m), HEALTH_COLOURS[v.health])
        for v in beacons
        if v.beacon.x_m is not None and v.beacon.y_m is not None
    ]
    gateway_markers = [
        Marker(g.device_id, g.name, g.x_m, _svg_y(plan, g.y_m), "#24292f")
        for g in gateways
        if g.x_m is not None and g.y_m is not None
    ]
    return {
        "width": plan.width_m,
        "height": plan.height_m,
        "r": round(size / 70, 3),
        "font": round(size / 45, 3),
        "stroke": round(size / 400, 3),
        "zones": zones,
        "beacons": beacon_markers,
        "gateways": gateway_markers,
    }


def _read(platform: Platform, tenant_id: str, work: Callable[[Connection], Any]) -> Any:
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, tenant_id)
        return work(conn)


def _site_context(conn: Connection, tenant_id: str, site_id: str) -> dict[str, Any]:
    view = service.get_floor_plan(conn, tenant_id=tenant_id, site_id=site_id)
    now = utcnow()
    beacons = service.list_beacons(conn, tenant_id=tenant_id, site_id=site_id, now=now)
    gateways = service.list_gateways(conn, tenant_id=tenant_id, site_id=site_id)
    placed = {g.device_id for g in gateways}
    candidates = gateways + [
        service.GatewayView(d.id, d.external_id, d.name, None, None, None, None, None)
        for d in service.unplaced_gateways(conn, tenant_id=tenant_id)
        if d.id not in placed
    ]
    return {
        "title": view.site_name,
        "site_id": site_id,
        "view": view,
        "drawing": plan_drawing(view.plan, beacons, gateways) if view.plan else None,
        "beacons": beacons,
        "gateways": gateways,
        "gateway_choices": candidates,
        "kinds": BEACON_KINDS,
        "now": now,
        "max_image_mb": MAX_IMAGE_BYTES // (1024 * 1024),
    }


def _site_page(
    request: Request, platform: Platform, tenant_id: str, site_id: str, *, error: str | None = None, status: int = 200
) -> Response:
    try:
        context = _read(platform, tenant_id, lambda conn: _site_context(conn, tenant_id, site_id))
    except TradeoffError as exc:
        return render(request, "error.html", {"title": "Store", "message": exc.message}, status_code=exc.status)
    context["error"] = error
    return render(request, "store_site.html", context, status_code=status)


@router.get("/stores", response_class=HTMLResponse)
def stores_page(request: Request, user: UserDep, platform: PlatformDep) -> Response:
    def rows(conn: Connection) -> list[dict[str, Any]]:
        out = []
        for site in tenancy.list_sites(conn, tenant_id=user.tenant_id):
            plan = floorplan.stored_plan(site.floor_plan)
            beacons = service.list_beacons(conn, tenant_id=user.tenant_id, site_id=site.id)
            out.append(
                {
                    "site": site,
                    "plan": plan,
                    "beacons": len(beacons),
                    "attention": sum(1 for b in beacons if b.health != "fresh"),
                    "gateways": len(service.list_gateways(conn, tenant_id=user.tenant_id, site_id=site.id)),
                }
            )
        return out

    return render(request, "store_list.html", {"title": "Stores", "rows": _read(platform, user.tenant_id, rows)})


@router.get("/stores/{site_id}", response_class=HTMLResponse)
def store_page(request: Request, user: UserDep, platform: PlatformDep, site_id: str) -> Response:
    return _site_page(request, platform, user.tenant_id, site_id)


def _post(
    request: Request,
    platform: Platform,
    tenant_id: str,
    site_id: str,
    csrf: str,
    action: Callable[[Connection], object],
    anchor: str,
) -> Response:
    """Check the form's CSRF token, apply the change in one transaction, and go back to the page (or show
    it again with the error, nothing changed)."""
    if not csrf_valid(request.session, csrf):
        context = {"title": "Form expired", "message": "This form has expired. Please reload the page and try again."}
        return render(request, "error.html", context, status_code=403)
    try:
        with write_transaction(platform.app_engine) as conn:
            scope_to_tenant(conn, tenant_id)
            action(conn)
    except TradeoffError as exc:
        return _site_page(request, platform, tenant_id, site_id, error=exc.message, status=exc.status)
    return RedirectResponse(f"/stores/{site_id}#{anchor}", status_code=303, headers={"Cache-Control": "no-store"})


def _number(value: str, field: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a number") from None


def _required(value: str, field: str) -> float:
    number = _number(value, field)
    if number is None:
        raise InvalidInput(field, "required")
    return number


def _plan_json(conn: Connection, tenant_id: str, site_id: str) -> dict[str, Any]:
    plan = service.get_floor_plan(conn, tenant_id=tenant_id, site_id=site_id).plan
    return plan.to_json() if plan else {"width_m": 0, "height_m": 0, "zones": []}


@router.post("/stores/{site_id}/plan")
def post_plan(
    request: Request, user: UserDep, platform: PlatformDep, site_id: str, csrf: Csrf = "", width_m: Text = "",
    height_m: Text = "",
) -> Response:  # fmt: skip
    def action(conn: Connection) -> None:
        plan = _plan_json(conn, user.tenant_id, site_id)
        plan |= {"width_m": _required(width_m, "width_m"), "height_m": _required(height_m, "height_m")}
        service.save_floor_plan(conn, tenant_id=user.tenant_id, site_id=site_id, plan=plan)

    return _post(request, platform, user.tenant_id, site_id, csrf, action, "plan")


@router.post("/stores/{site_id}/zones")
def post_zone(
    request: Request, user: UserDep, platform: PlatformDep, site_id: str, csrf: Csrf = "", name: Text = "",
    label: Text = "", points: Text = "",
) -> Response:  # fmt: skip
    def action(conn: Connection) -> None:
        plan = _plan_json(conn, user.tenant_id, site_id)
        if not plan["width_m"]:
            raise Conflict("this site has no floor plan yet: save its size first")
        zone = {"name": name.strip(), "label": label.strip() or name.strip(), "polygon": floorplan.parse_points(points)}
        plan["zones"] = [z for z in plan["zones"] if z["name"] != zone["name"]] + [zone]
        service.save_floor_plan(conn, tenant_id=user.tenant_id, site_id=site_id, plan=plan)

    return _post(request, platform, user.tenant_id, site_id, csrf, action, "zones")


@router.post("/stores/{site_id}/zones/delete")
def delete_zone(
    request: Request, user: UserDep, platform: PlatformDep, site_id: str, csrf: Csrf = "", name: Text = ""
) -> Response:
    def action(conn: Connection) -> None:
        plan = _plan_json(conn, user.tenant_id, site_id)
        plan["zones"] = [z for z in plan["zones"] if z["name"] != name]
        service.save_floor_plan(conn, tenant_id=user.tenant_id, site_id=site_id, plan=plan)

    return _post(request, platform, user.tenant_id, site_id, csrf, action, "zones")


@router.post("/stores/{site_id}/image")
def post_image(
    request: Request, user: UserDep, platform: PlatformDep, site_id: str, csrf: Csrf = "",
    image: Annotated[UploadFile | None, File()] = None, remove: Text = "",
) -> Response:  # fmt: skip
    data = image.file.read(MAX_IMAGE_BYTES + 1) if image is not None else b""  # sync: runs in the threadpool

    def action(conn: Connection) -> None:
        if remove:
            service.delete_floor_plan_image(conn, tenant_id=user.tenant_id, site_id=site_id)
        else:
            service.set_floor_plan_image(conn, tenant_id=user.tenant_id, site_id=site_id, data=data)

    return _post(request, platform, user.tenant_id, site_id, csrf, action, "plan")


@router.post("/stores/{site_id}/beacons")
def post_beacon(
    request: Request, user: UserDep, platform: PlatformDep, site_id: str, csrf: Csrf = "", kind: Text = "ibeacon",
    identity: Text = "", label: Text = "", x_m: Text = "", y_m: Text = "", zone: Text = "", measured_power: Text = "",
    skus: Text = "", categories: Text = "",
) -> Response:  # fmt: skip
    def action(conn: Connection) -> None:
        power = _number(measured_power, "measured_power")
        service.add_beacon(
            conn,
            tenant_id=user.tenant_id,
            site_id=site_id,
            identity=identity_of(kind, identity),
            label=label,
            x_m=_number(x_m, "x_m"),
            y_m=_number(y_m, "y_m"),
            zone=zone.strip() or None,
            measured_power=None if power is None else round(power),
            skus=split_list(skus),
            categories=split_list(categories),
        )

    return _post(request, platform, user.tenant_id, site_id, csrf, action, "beacons")


@router.post("/stores/{site_id}/beacons/update")
def update_beacon(
    request: Request, user: UserDep, platform: PlatformDep, site_id: str, csrf: Csrf = "", beacon_id: Text = "",
    label: Text = "", x_m: Text = "", y_m: Text = "", zone: Text = "", measured_power: Text = "", skus: Text = "",
    categories: Text = "",
) -> Response:  # fmt: skip
    def action(conn: Connection) -> None:
        power = _number(measured_power, "measured_power")
        service.update_beacon(
            conn,
            tenant_id=user.tenant_id,
            site_id=site_id,
            beacon_id=beacon_id,
            label=label,
            x_m=_number(x_m, "x_m"),
            y_m=_number(y_m, "y_m"),
            zone=zone.strip() or None,
            measured_power=None if power is None else round(power),
            skus=split_list(skus),
            categories=split_list(categories),
        )

    return _post(request, platform, user.tenant_id, site_id, csrf, action, "beacons")


@router.post("/stores/{site_id}/beacons/delete")
def delete_beacon(
    request: Request, user: UserDep, platform: PlatformDep, site_id: str, csrf: Csrf = "", beacon_id: Text = ""
) -> Response:
    def action(conn: Connection) -> None:
        service.delete_beacon(conn, tenant_id=user.tenant_id, site_id=site_id, beacon_id=beacon_id)

    return _post(request, platform, user.tenant_id, site_id, csrf, action, "beacons")


@router.post("/stores/{site_id}/gateways")
def post_gateway(
    request: Request, user: UserDep, platform: PlatformDep, site_id: str, csrf: Csrf = "", device_id: Text = "",
    x_m: Text = "", y_m: Text = "", zone: Text = "", remove: Text = "",
) -> Response:  # fmt: skip
    def action(conn: Connection) -> None:
        if remove:
            service.remove_gateway_placement(conn, tenant_id=user.tenant_id, site_id=site_id, device_id=device_id)
            return
        service.place_gateway(
            conn,
            tenant_id=user.tenant_id,
            site_id=site_id,
            device_id=device_id,
            x_m=_required(x_m, "x_m"),
            y_m=_required(y_m, "y_m"),
            zone=zone.strip() or None,
        )

    return _post(request, platform, user.tenant_id, site_id, csrf, action, "gateways")


def install(app: FastAPI, platform: Platform) -> None:
    """Add the pages and their nav link (the dashboard's ``PAGES`` lists this)."""
    app.include_router(router)
    add_nav_item(app, "Stores", "/stores", order=40)
