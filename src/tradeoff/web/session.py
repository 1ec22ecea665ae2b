"""Dashboard sessions: the signing secret, who is logged in, CSRF tokens, and the bridge to the API.

The session is a signed cookie (Starlette ``SessionMiddleware``) holding the user's tenant, role, name and a
per-session CSRF token. ``SessionPrincipalMiddleware`` turns a logged-in session into the ``Principal`` the
``/v1`` API accepts, so the dashboard's JavaScript calls the API with the cookie. Unsafe methods (POST,
PUT, …) get it only with a matching ``X-CSRF-Token`` header: a cookie alone never authorizes a write.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from tradeoff.platform.auth import Principal, Role
from tradeoff.platform.settings import Settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "tradeoff_session"
SESSION_MAX_AGE = 12 * 60 * 60  # seconds; a role change takes effect at the next login at the latest
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECRET_FILE = "secret_key"

Session = MutableMapping[str, Any]


def session_secret(settings: Settings) -> str:
    """``TRADEOFF_SECRET_KEY``, or a random secret generated once into ``var_dir/secret_key`` (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key
    var_dir = Path(settings.var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / SECRET_FILE
    existing = _read_secret(path)
    if existing:
        return existing
    candidate = var_dir / f".{SECRET_FILE}.{secrets.token_hex(8)}"
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # link() never overwrites: when two servers start at once, both end up with the first secret.
        with contextlib.suppress(FileExistsError):
            os.link(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)
    secret = _read_secret(path)
    if not secret:
        raise RuntimeError(f"could not create the session secret at {path}")
    return secret


def _read_secret(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return ""
    if text and path.stat().st_mode & 0o077:
        log.warning("session secret %s is readable by other users; chmod 600 it", path)
    return text


def login_session(session: Session, principal: Principal) -> None:
    """Start a fresh session for ``principal`` (new CSRF token; nothing carried over from before login)."""
    session.clear()
    session["tenant_id"] = principal.tenant_id
    session["role"] = principal.role.value
    session["username"] = principal.username or ""
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def logout_session(session: Session) -> None:
    session.clear()


def session_principal(session: Session | None) -> Principal | None:
    """The logged-in dashboard user, or ``None`` (also for a tampered or outdated session)."""
    if not session:
        return None
    tenant_id, role, username = session.get("tenant_id"), session.get("role"), session.get("username")
    if not isinstance(tenant_id, str) or not tenant_id or not isinstance(username, str):
        return None
    if role not in (Role.ADMIN.value, Role.STAFF.value):
        return None
    return Principal(tenant_id=tenant_id, role=Role(role), username=username)


def csrf_token(session: Session) -> str:
    """This session's CSRF token, created on first use (the login form needs one before login)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_valid(session: Session | None, submitted: str | None) -> bool:
    expected = session.get(CSRF_FIELD) if session else None
    if not isinstance(expected, str) or not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


class SessionPrincipalMiddleware:
    """Puts the logged-in user's ``Principal`` into ``scope["session_principal"]`` for the API.

    Must run inside ``SessionMiddleware`` (which fills ``scope["session"]``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.pop("session_principal", None)
            session = scope.get("session")
            principal = session_principal(session)
            if principal is not None and (
                scope["method"] in SAFE_METHODS or csrf_valid(session, _header(scope, CSRF_HEADER))
            ):
                scope["session_principal"] = principal
        await self.app(scope, receive, send)


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None
