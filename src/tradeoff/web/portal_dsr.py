"""The portal's data-subject requests: see and download everything held (export), and erase it (after a
confirmation step). Both go through the same DSR service as ``GET /v1/me/data`` and ``DELETE /v1/me``."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

from tradeoff.platform.http.deps import PlatformDep
from tradeoff.web import portal_data
from tradeoff.web.portal_session import ShopperDep
from tradeoff.web.portal_view import PORTAL_HEADERS, form_expired, redirect, render_portal

router = APIRouter(prefix="/portal", include_in_schema=False)
EXPORT_FILENAME = "my-data.json"


@router.get("/export", response_class=HTMLResponse)
def export_page(request: Request, platform: PlatformDep, shopper: ShopperDep) -> Response:
    held = None if shopper.erased else portal_data.held(platform, shopper, rows=True)
    context = {"title": "Your data", "csrf_token": shopper.session.csrf, "shopper": shopper, "held": held}
    return render_portal(request, "portal_export.html", context)


@router.get("/export.json")
def export_download(platform: PlatformDep, shopper: ShopperDep) -> Response:
    """The ``tradeoff-dsr/1`` document as a download; after erasure 410 ``erased`` (nothing is held)."""
    status, document = portal_data.export_document(platform, shopper)
    headers = {**PORTAL_HEADERS}
    if status == 200:
        headers["Content-Disposition"] = f'attachment; filename="{EXPORT_FILENAME}"'
    body = orjson.dumps(document, option=orjson.OPT_INDENT_2, default=str)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


@router.get("/erase", response_class=HTMLResponse)
def erase_confirm(request: Request, shopper: ShopperDep) -> Response:
    if shopper.erased:
        return redirect("/portal")
    return render_portal(
        request, "portal_erase.html", {"title": "Erase everything?", "csrf_token": shopper.session.csrf}
    )


@router.post("/erase")
def erase(
    request: Request,
    platform: PlatformDep,
    shopper: ShopperDep,
    confirm: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not shopper.session.csrf_valid(csrf_token):
        return form_expired(request, shopper)
    if shopper.erased:
        return redirect("/portal")
    if confirm != "yes":
        context = {
            "title": "Erase everything?",
            "csrf_token": shopper.session.csrf,
            "error": "Tick the box to confirm that you want everything erased.",
        }
        return render_portal(request, "portal_erase.html", context, 400)
    portal_data.erase(platform, shopper)
    return redirect("/portal?done=erased")
