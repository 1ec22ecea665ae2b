"""``/login`` and ``/logout``: dashboard users (admin or staff) sign in with a username and password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tradeoff.core.errors import Unauthenticated
from tradeoff.platform.auth import authenticate_user
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.web.render import PAGE_HEADERS, render, safe_next
from tradeoff.web.session import CSRF_FIELD, csrf_valid, login_session, logout_session, session_principal

router = APIRouter(include_in_schema=False)

STALE_FORM = "This form has expired. Please try again."


def _login_form(request: Request, *, next_path: str, error: str | None, username: str, status: int) -> Response:
    context = {"title": "Log in", "next": next_path, "error": error, "username": username}
    return render(request, "login.html", context, status_code=status)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    if session_principal(request.session) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next_path=safe_next(next), error=None, username="", status=200)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    platform: PlatformDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = safe_next(next)
    if not csrf_valid(request.session, csrf_token):
        return _login_form(request, next_path=target, error=STALE_FORM, username=username, status=403)
    try:
        with platform.engine.connect() as conn:
            principal = authenticate_user(conn, username=username.strip(), password=password)
    except Unauthenticated:
        return _login_form(
            request, next_path=target, error="Wrong username or password.", username=username, status=401
        )
    login_session(request.session, principal)
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "") -> Response:
    if not csrf_valid(request.session, csrf_token):
        context = {"title": "Form expired", "message": STALE_FORM}
        return render(request, "error.html", context, status_code=403)
    logout_session(request.session)
    return RedirectResponse("/login", status_code=303, headers=PAGE_HEADERS)
