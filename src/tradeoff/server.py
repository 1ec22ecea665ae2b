"""The served application: the platform API plus the dashboard pages (composition above ``platform``)."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from tradeoff.core.clock import Clock
from tradeoff.platform.container import Platform
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings, get_settings
from tradeoff.web.dashboard import install_dashboard


def create_server_app(
    settings: Settings | None = None, *, platform: Platform | None = None, clock: Clock | None = None
) -> FastAPI:
    """``clock``: the platform's time when it builds its own platform (``tradeoff demo`` passes the simulator's)."""
    return create_app(settings or get_settings(), platform=platform, extensions=[install_dashboard], clock=clock)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory tradeoff.server:app_from_env``."""
    app = create_server_app()
    _tune_collector()
    return app


def _tune_collector() -> None:
    """A long-running server: take everything built at startup out of the cyclic collector's scans
    (``gc.freeze``) and collect the young generation less often. Ingest allocates in bursts of
    thousands of objects per batch; with the defaults, full collections over the whole heap cost
    ingest a third or more of its throughput (``tradeoff bench ingest``, docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
