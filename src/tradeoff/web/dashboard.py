"""Dashboard pages (server-rendered): sessions, login, the core pages, static files and the nav.

Capability pages plug in through ``PAGES``: each entry is ``install(app, platform)`` that includes its
router and calls ``add_nav_item`` (see docs/dashboard.md).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from tradeoff.platform.auth import Role
from tradeoff.platform.container import Platform
from tradeoff.web import login, merchant_privacy, offers_pages, portal, routes, store_setup, vending, wallet
from tradeoff.web.nav import add_nav_item
from tradeoff.web.render import STATIC_DIR, LoginRequired, PageForbidden, render
from tradeoff.web.session import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    SessionPrincipalMiddleware,
    session_secret,
)

PageInstaller = Callable[[FastAPI, Platform], None]

# Capability pages, installed in this order after the core pages (e.g. ``vending_pages.install``).
PAGES: list[PageInstaller] = [
    merchant_privacy.install,
    portal.install,
    wallet.install,
    store_setup.install,
    offers_pages.install,
    vending.install,
]


def install_dashboard(app: FastAPI, platform: Platform) -> None:
    """Mount the dashboard routes and static files on ``app``."""
    # add_middleware wraps: the last one added runs first. Sessions must be decoded before the
    # principal bridge reads them.
    app.add_middleware(SessionPrincipalMiddleware)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(platform.settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=platform.settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_required(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden) -> Response:
        return render(request, "error.html", {"title": "Not allowed", "message": exc.message}, status_code=403)

    app.include_router(login.router)
    app.include_router(routes.router)
    add_nav_item(app, "Overview", "/", order=10)
    add_nav_item(app, "Devices", "/devices", order=20)
    add_nav_item(app, "Events", "/events", order=30)
    add_nav_item(app, "Dead letters", "/dead-letters", roles={Role.ADMIN}, order=90)
    for install in PAGES:
        install(app, platform)
