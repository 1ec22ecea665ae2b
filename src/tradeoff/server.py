"""The served application: the platform API plus the dashboard pages (composition above ``platform``)."""

from __future__ import annotations

from fastapi import FastAPI

from tradeoff.platform.container import Platform
from tradeoff.platform.http.app import create_app
from tradeoff.platform.settings import Settings, get_settings
from tradeoff.web.dashboard import install_dashboard


def create_server_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    return create_app(settings or get_settings(), platform=platform, extensions=[install_dashboard])


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory tradeoff.server:app_from_env``."""
    return create_server_app()
