"""Collects the table metadata of every package, so migrations and classification checks see all of it."""

from __future__ import annotations

from sqlalchemy import MetaData

from tradeoff.platform.db.tables import metadata


def all_metadata() -> MetaData:
    """All tables share one ``MetaData``; importing capability stores here registers their tables."""
    return metadata
