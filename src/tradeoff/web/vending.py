"""Vending pages (admin and staff): ``/vending`` — the fleet (fill %, sold-out columns, alerts, due columns) and
the latest plans; ``/vending/plans/{plan_id}`` — the routes drawn as inline SVG, the stops with ETAs and the
pick lists and depot load lists laid out to print (one page per truck).

The map is drawn on the server (no tiles, no CDN): latitude/longitude projected equirectangularly around the
depot (metres east/north, accurate to well under 1 % over a city), one colour per truck, numbered stops.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import Connection
from starlette.responses import HTMLResponse, Response

from tradeoff.core.errors import TradeoffError
from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.container import Platform
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.vending import fleet, validate, views
from tradeoff.vending.plan_api import Names, plan_document
from tradeoff.vending.plan_store import latest_plans, load_plan
from tradeoff.web.nav import add_nav_item
from tradeoff.web.render import page_roles, render

router = APIRouter(include_in_schema=False)
StaffDep = Annotated[Principal, page_roles(Role.ADMIN, Role.STAFF)]
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
WIDTH, HEIGHT, MARGIN = 720.0, 440.0, 36.0
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    label: str
    title: str
    colour: str


@dataclass(frozen=True)
class Route:
    truck: str
    colour: str
    d: str  # SVG path data: depot → stops → depot
    stops: tuple[Marker, ...]


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    depot: Marker
    routes: tuple[Route, ...]
    deferred: tuple[Marker, ...]
    scale_m: int  # length of the scale bar in metres
    scale_px: float

    @property
    def scale_label(self) -> str:
        return f"{self.scale_m // 1000} km" if self.scale_m >= 1000 else f"{self.scale_m} m"


def _nice(metres: float) -> int:
    """The largest 1-2-5 × 10^k not above ``metres`` (at least 10 m)."""
    if metres < 10:
        return 10
    power = 10 ** math.floor(math.log10(metres))
    return int(max(step * power for step in (1, 2, 5) if step * power <= metres))


def route_drawing(
    depot: tuple[float, float],
    trucks: Sequence[tuple[str, Sequence[tuple[float, float, str, str]]]],
    deferred: Sequence[tuple[float, float, str]] = (),
) -> Drawing:
    """Project the depot, each truck's stops ``(lat, lon, label, title)`` and deferred machines into one SVG box."""
    lat0, lon0 = depot
    cos0 = math.cos(math.radians(lat0))

    def metres(lat: float, lon: float) -> tuple[float, float]:
        return (lon - lon0) * M_PER_DEG_LON * cos0, (lat - lat0) * M_PER_DEG_LAT

    points = [(0.0, 0.0)] + [metres(s[0], s[1]) for _, stops in trucks for s in stops]
    points += [metres(lat, lon) for lat, lon, _ in deferred]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span_x, span_y = max(max(xs) - min(xs), 200.0), max(max(ys) - min(ys), 200.0)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)  # px per metre, same both ways
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def px(lat: float, lon: float) -> tuple[float, float]:
        x, y = metres(lat, lon)
        return round(WIDTH / 2 + (x - cx) * scale, 1), round(HEIGHT / 2 - (y - cy) * scale, 1)

    home = px(lat0, lon0)
    routes = []
    for index, (truck, stops) in enumerate(trucks):
        colour = COLOURS[index % len(COLOURS)]
        markers = tuple(Marker(*px(lat, lon), label, title, colour) for lat, lon, label, title in stops)
        d = " ".join([f"M{home[0]},{home[1]}", *(f"L{m.x},{m.y}" for m in markers), f"L{home[0]},{home[1]}"])
        routes.append(Route(truck, colour, d, markers))
    left = tuple(Marker(*px(lat, lon), "", title, "#888888") for lat, lon, title in deferred)
    bar_m = _nice(span_x / 4)
    return Drawing(WIDTH, HEIGHT, Marker(*home, "D", "depot", "#000000"), tuple(routes), left, bar_m, bar_m * scale)


def _read(platform: Platform, tenant_id: str, work: Callable[[Connection], Any]) -> Any:
    with platform.app_engine.begin() as conn:
        scope_to_tenant(conn, tenant_id)
        return work(conn)


def fleet_rows(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """Per machine: fill % (on-hand over par where stock is known), sold-out and due columns, open alerts."""
    alerts: dict[str, list[str]] = {}
    for alert in views.list_alerts(conn, tenant_id=tenant_id, limit=1000):
        if alert.machine_id is not None:
            alerts.setdefault(alert.machine_id, []).append(alert.kind)
    depots = {d.id: d.name for d in fleet.list_depots(conn, tenant_id=tenant_id)}
    rows = []
    for machine in fleet.list_machines(conn, tenant_id=tenant_id):
        columns = [c for c in views.machine_stock(conn, tenant_id=tenant_id, machine_id=machine.id) if c.in_planogram]
        known = [c for c in columns if c.on_hand is not None and c.par]
        par = sum(c.par or 0 for c in known)
        rows.append(
            {
                "machine": machine,
                "depot": depots.get(machine.depot_id or "", "—"),
                "columns": len(columns),
                "fill_pct": None if not par else round(100 * sum(c.on_hand or 0 for c in known) / par),
                "sold_out": sum(1 for c in columns if c.sold_out),
                "due": sum(1 for c in columns if c.due),
                "alerts": sorted(alerts.get(machine.id, [])),
            }
        )
    return rows


@router.get("/vending", response_class=HTMLResponse)
def vending_page(request: Request, user: StaffDep, platform: PlatformDep) -> Response:
    def context(conn: Connection) -> dict[str, Any]:
        names = Names.of(conn, user.tenant_id)
        depots = {d.id: d.name for d in fleet.list_depots(conn, tenant_id=user.tenant_id)}
        plans = [plan_document(p, names) for p in latest_plans(conn, tenant_id=user.tenant_id, limit=15)]
        return {"title": "Vending", "rows": fleet_rows(conn, user.tenant_id), "plans": plans, "depots": depots}

    return render(request, "vending_fleet.html", _read(platform, user.tenant_id, context))


def _localise(document: dict[str, Any], timezone: str) -> None:
    """Drivers read depot-local clock times: add ``*_local`` (HH:MM) next to the UTC ISO times."""
    zone = validate.timezone(timezone)

    def local(iso: str) -> str:
        return datetime.fromisoformat(iso).astimezone(zone).strftime("%H:%M")

    document["timezone"] = timezone
    document["created_local"] = (
        datetime.fromisoformat(document["created_at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    )
    for truck in document["trucks"]:
        truck["departs_local"], truck["returns_local"] = local(truck["departs"]), local(truck["returns"])
        for stop in truck["stops"]:
            stop["eta_local"] = local(stop["eta"])


def _plan_context(conn: Connection, tenant_id: str, plan_id: str) -> dict[str, Any]:
    stored = load_plan(conn, tenant_id=tenant_id, plan_id=plan_id)
    names = Names.of(conn, tenant_id)
    document = plan_document(stored, names)
    drawing = None
    if stored.depot_id is not None:
        depot = fleet.get_depot(conn, tenant_id=tenant_id, depot_id=stored.depot_id)
        trucks = [
            (
                truck["truck_name"] or truck["truck_id"],
                [
                    (s["lat"], s["lon"], str(s["number"]), s["machine_name"] or s["machine_id"])
                    for s in truck["stops"]
                    if s["lat"] is not None
                ],
            )
            for truck in document["trucks"]
        ]
        left = [
            (names.machines[d["machine_id"]].lat, names.machines[d["machine_id"]].lon, d["machine_name"])
            for d in document["deferred"]
            if d["machine_id"] in names.machines
        ]
        drawing = route_drawing((depot.lat, depot.lon), trucks, left)
        document["depot_name"] = depot.name
        _localise(document, depot.timezone)
    return {"title": "Vending plan", "plan": document, "drawing": drawing}


@router.get("/vending/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, user: StaffDep, platform: PlatformDep, plan_id: str) -> Response:
    try:
        context = _read(platform, user.tenant_id, lambda conn: _plan_context(conn, user.tenant_id, plan_id))
    except TradeoffError as exc:
        return render(request, "error.html", {"title": "Vending plan", "message": exc.message}, status_code=exc.status)
    return render(request, "vending_plan.html", context)


def install(app: FastAPI, platform: Platform) -> None:
    app.include_router(router)
    add_nav_item(app, "Vending", "/vending", roles={Role.ADMIN, Role.STAFF}, order=60)
