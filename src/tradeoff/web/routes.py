"""The core dashboard pages: overview, devices, live events and (admins) dead letters."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from tradeoff.core.clock import utcnow
from tradeoff.platform.eventlog import recent_dead_letters
from tradeoff.platform.http.deps import ConnDep
from tradeoff.web import queries
from tradeoff.web.render import AdminDep, UserDep, render

router = APIRouter(include_in_schema=False)

EVENT_ROWS = 50
LIVE_MAX_ROWS = 200


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request, user: UserDep, conn: ConnDep) -> HTMLResponse:
    summary = queries.overview(conn, tenant_id=user.tenant_id, now=utcnow())
    return render(request, "overview.html", {"title": "Overview", "overview": summary})


@router.get("/devices", response_class=HTMLResponse)
def devices_page(request: Request, user: UserDep, conn: ConnDep) -> HTMLResponse:
    now = utcnow()
    registered, unregistered = queries.device_rows(conn, tenant_id=user.tenant_id, now=now)
    context = {"title": "Devices", "devices": registered, "unregistered": unregistered, "now": now}
    return render(request, "devices.html", context)


@router.get("/events", response_class=HTMLResponse)
def events_page(request: Request, user: UserDep, conn: ConnDep) -> HTMLResponse:
    # The stream resumes after the log position read *before* the rows: nothing is missed in between,
    # and the page's script skips any row it already shows.
    position = queries.log_position(conn)
    recent = queries.recent_events(conn, tenant_id=user.tenant_id, up_to_seq=position, limit=EVENT_ROWS)
    context = {
        "title": "Live events",
        "events": recent,
        "after_seq": position,
        "max_rows": LIVE_MAX_ROWS,
    }
    return render(request, "events.html", context)


@router.get("/dead-letters", response_class=HTMLResponse)
def dead_letters_page(request: Request, user: AdminDep, conn: ConnDep) -> HTMLResponse:
    rows = recent_dead_letters(conn, tenant_id=user.tenant_id, limit=100)
    return render(request, "dead_letters.html", {"title": "Dead letters", "dead_letters": rows})
