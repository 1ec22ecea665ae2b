"""Run Alembic migrations programmatically (``tradeoff migrate``, tests, the demo).

On PostgreSQL every migration run also makes sure each tenant-owned table has forced row-level
security, so a table added by any package is protected without its own migration remembering to.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from tradeoff.platform.db.engine import make_engine, write_transaction
from tradeoff.platform.db.registry import all_metadata
from tradeoff.platform.db.rls import ensure_rls, grant_app_role

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads", *, app_role: str | None = None) -> None:
    command.upgrade(alembic_config(url), revision)
    engine = make_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            if app_role:
                raise ValueError("--app-role needs PostgreSQL (row-level security)")
            return
        with write_transaction(engine) as conn:
            ensure_rls(conn, all_metadata())
            if app_role:
                grant_app_role(conn, all_metadata(), app_role)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
