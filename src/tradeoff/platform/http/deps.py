"""Request dependencies: the platform container, a DB connection and the authenticated principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from tradeoff.core.errors import Unauthenticated
from tradeoff.platform.auth import Principal, Role, authenticate_key
from tradeoff.platform.container import Platform
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def bearer_secret(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() == "bearer" and secret:
        return secret.strip()
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    raise Unauthenticated("missing API key (Authorization: Bearer <key>)")


def get_principal(request: Request, platform: PlatformDep) -> Principal:
    session_principal = request.scope.get("session_principal")
    if isinstance(session_principal, Principal) and "authorization" not in request.headers:
        return session_principal
    secret = bearer_secret(request)
    with platform.engine.connect() as conn:
        return authenticate_key(conn, secret)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_conn(request: Request, platform: PlatformDep, principal: PrincipalDep) -> Iterator[Connection]:
    """One transaction per request, bound to the caller's tenant (row-level security on PostgreSQL):
    committed when the handler returns, rolled back on error."""
    if request.method in ("GET", "HEAD"):
        with platform.app_engine.begin() as conn:
            scope_to_tenant(conn, principal.tenant_id)
            yield conn
    else:
        with write_transaction(platform.app_engine) as conn:
            scope_to_tenant(conn, principal.tenant_id)
            yield conn


# scope="function": the transaction commits before the response is sent (acknowledge only what is durable).
ConnDep = Annotated[Connection, Depends(get_conn, scope="function")]


def roles(*allowed: Role) -> object:
    """Dependency that admits only the given roles."""

    def check(principal: PrincipalDep) -> Principal:
        principal.require(*allowed)
        return principal

    return Depends(check)


READERS = (Role.ADMIN, Role.STAFF)
WRITERS = (Role.ADMIN, Role.DEVICE, Role.POS)
