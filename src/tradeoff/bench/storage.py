"""Database side of the benchmark: the raw-insert limit and reading back what was stored."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, insert, select

from tradeoff.bench.report import Measurement
from tradeoff.bench.workload import chunks
from tradeoff.platform.db.engine import make_engine
from tradeoff.platform.db.tables import events

RAW_DESCRIPTION = (
    "plain batched INSERTs of the same rows into the same events table (SQLAlchemy Core executemany, "
    "same engine settings, one transaction per batch, sequential; no HTTP, validation, dedup or RETURNING)"
)


def raw_inserts(url: str, rows: list[dict[str, Any]], batch: int, *, warmup: list[dict[str, Any]]) -> Measurement:
    """Insert ``rows`` in ``batch``-sized transactions; latency is each batch's time to commit.

    ``warmup`` rows are inserted first, off the clock, as the measured paths get a warm-up batch too.
    """
    engine = make_engine(url)
    stmt = insert(events)
    latencies = []
    try:
        with engine.begin() as conn:
            conn.execute(stmt, warmup)
        started = time.monotonic()
        for chunk in chunks(rows, batch):
            sent = time.monotonic()
            with engine.begin() as conn:
                conn.execute(stmt, chunk)
            latencies.append(time.monotonic() - sent)
        seconds = time.monotonic() - started
    finally:
        engine.dispose()
    return Measurement(len(rows), seconds, latencies)


def stored_events(url: str, tenant_id: str) -> list[tuple[str, int]]:
    """``(event_id, seq)`` of every stored event of ``tenant_id``."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = select(events.c.event_id, events.c.seq).where(events.c.tenant_id == tenant_id)
            return [(row.event_id, row.seq) for row in conn.execute(query)]
    finally:
        engine.dispose()


def wait_for_events(url: str, expected: int, *, stall_seconds: float = 30.0) -> int:
    """Poll until ``expected`` events are stored or the count stops growing; returns the last count."""
    engine = make_engine(url)
    count, last_change = -1, time.monotonic()
    try:
        while True:
            with engine.connect() as conn:
                now = int(conn.execute(select(func.count()).select_from(events)).scalar() or 0)
            if now != count:
                count, last_change = now, time.monotonic()
            if count >= expected or time.monotonic() - last_change > stall_seconds:
                return count
            time.sleep(0.25)
    finally:
        engine.dispose()
