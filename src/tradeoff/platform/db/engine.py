"""Engine factory: one place that knows the differences between SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

_WRITE_OPTION = "tradeoff_write"


class _WriterLock:
    """One SQLite writer at a time in this process (see ``write_transaction``), re-entrant for the thread
    holding it — and, unlike ``threading.RLock``, releasable from another thread: FastAPI runs a sync
    dependency's setup and its teardown (the request transaction's commit) on whichever worker threads
    are free, and an RLock released there raises and stays held forever, stopping every writer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._books = threading.Lock()  # guards owner and depth
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._books:
            if self._owner == me:
                self._depth += 1
                return
        self._lock.acquire()
        with self._books:
            self._owner, self._depth = me, 1

    def __exit__(self, *_exc: object) -> None:
        with self._books:
            self._depth -= 1
            if self._depth:
                return
            self._owner = None
        self._lock.release()


_sqlite_writers = _WriterLock()


def json_dumps(value: Any) -> str:
    """How JSON columns are written (the engines' ``json_serializer``)."""
    return orjson.dumps(value).decode()


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL + full fsync so an acknowledged commit survives a crash."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            json_serializer=json_dumps,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=8,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        json_serializer=json_dumps,
        json_deserializer=orjson.loads,
        pool_size=8,
        max_overflow=8,
        pool_pre_ping=True,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (pysqlite quirk).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write. On SQLite it takes the write lock up front (BEGIN IMMEDIATE,
    waiting up to busy_timeout): a deferred transaction that reads and then writes fails at once with
    SQLITE_BUSY when another connection committed in between. Reads use plain ``engine.connect()``."""
    if engine.dialect.name == "sqlite":
        # Writers of this process queue here rather than in SQLite's busy handler, which sleeps
        # 1–100 ms between retries; other processes still meet the database's own lock.
        with _sqlite_writers:
            yield from _begin_write(engine)
    else:
        yield from _begin_write(engine)


def _begin_write(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            yield conn


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
