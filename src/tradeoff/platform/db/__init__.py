"""Storage: SQLAlchemy engine, table definitions and Alembic migrations (same on SQLite and PostgreSQL)."""
