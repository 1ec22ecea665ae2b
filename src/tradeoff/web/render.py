"""Rendering and access control shared by every dashboard page (the core ones and capability pages)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from tradeoff import __version__
from tradeoff.core.clock import utcnow
from tradeoff.platform.auth import Principal, Role
from tradeoff.web.nav import nav_of
from tradeoff.web.session import csrf_token, session_principal

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# Pages carry tenant data: never cached, never framed, and only our own scripts and styles run.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class LoginRequired(Exception):
    """Raised by page dependencies when nobody is logged in; answered with a redirect to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Exception):
    """The user is logged in but their role may not see the page; answered with an HTML 403."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _page_context(request: Request) -> dict[str, Any]:
    session = request.scope.get("session")
    user = session_principal(session)
    return {
        "user": user,
        "nav": nav_of(request.app).for_role(user.role) if user else [],
        "csrf_token": csrf_token(session) if session is not None else "",
        "current_path": request.url.path,
        "version": __version__,
    }


def format_dt(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return "never"
    seconds = int(((now or utcnow()) - value).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def compact_json(value: Any, limit: int = 160) -> str:
    if value is None:
        return ""
    text = orjson.dumps(value, default=str).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_page_context])
templates.env.filters["dt"] = format_dt
templates.env.filters["ago"] = format_ago
templates.env.filters["compact_json"] = compact_json


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render ``templates/<name>`` inside the layout (user, nav and CSRF token are added)."""
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code, headers=PAGE_HEADERS)


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (other hosts, schemes) becomes ``/``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 0x20 for ch in value):
        return "/"
    return value


def current_user(request: Request) -> Principal:
    """Dependency for pages: the logged-in user, or a redirect to the login form."""
    user = session_principal(request.scope.get("session"))
    if user is None:
        query = request.url.query
        raise LoginRequired(request.url.path + (f"?{query}" if query else ""))
    return user


UserDep = Annotated[Principal, Depends(current_user)]


def page_roles(*allowed: Role) -> Any:
    """Dependency for pages only some roles may see (e.g. ``page_roles(Role.ADMIN)``)."""

    def check(user: UserDep) -> Principal:
        if user.role not in allowed:
            raise PageForbidden("Your role may not see this page. Ask an admin of your organisation.")
        return user

    return Depends(check)


AdminDep = Annotated[Principal, page_roles(Role.ADMIN)]
