"""Alembic environment: migrations run against the engine the platform is configured with."""

from __future__ import annotations

from alembic import context

from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.registry import all_metadata

config = context.config
target_metadata = all_metadata()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
