"""Dashboard pages (server-rendered). Filled in by the web work."""

from __future__ import annotations

from fastapi import FastAPI

from tradeoff.platform.container import Platform


def install_dashboard(app: FastAPI, platform: Platform) -> None:
    """Mount the dashboard routes and static files on ``app``."""
