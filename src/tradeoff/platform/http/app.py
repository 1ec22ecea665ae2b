"""FastAPI application factory: API routers, dashboard pages, errors, lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tradeoff import __version__
from tradeoff.core.clock import Clock
from tradeoff.platform.container import Platform, build_platform
from tradeoff.platform.http.errors import install_error_handlers
from tradeoff.platform.http.routes import dead_letters, events, health, tenancy
from tradeoff.platform.settings import Settings, get_settings

Extension = Callable[[FastAPI, Platform], None]


def create_app(
    settings: Settings | None = None,
    *,
    platform: Platform | None = None,
    extensions: Sequence[Extension] = (),
    clock: Clock | None = None,
) -> FastAPI:
    """Build the API; ``extensions`` add pages (the dashboard). With ``platform`` given the caller owns
    its lifecycle (tests, embedded use); otherwise it is built on ``clock`` (default: the wall clock)."""
    owned = platform is None
    the_platform = platform or build_platform(settings or get_settings(), clock=clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owned:
            the_platform.start()
        try:
            yield
        finally:
            if owned:
                the_platform.close()

    app = FastAPI(
        title="Tradeoff",
        version=__version__,
        description="Privacy-first IoT platform: ingest device events exactly once and serve them.",
        lifespan=lifespan,
    )
    app.state.platform = the_platform
    install_error_handlers(app)
    for router in (health.router, events.router, tenancy.router, dead_letters.router, *the_platform.routers):
        app.include_router(router)
    for extend in extensions:
        extend(app, the_platform)
    return app
