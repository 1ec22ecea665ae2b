"""``/v1/events``: batch ingestion with per-item results, reading the log back, and a live stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import NotFound
from tradeoff.platform import metrics
from tradeoff.platform.auth import Principal
from tradeoff.platform.container import Platform
from tradeoff.platform.eventlog import get_event, max_seq, read_events
from tradeoff.platform.http.body import read_body
from tradeoff.platform.http.deps import READERS, WRITERS, ConnDep, PlatformDep, roles
from tradeoff.platform.http.responses import JsonResponse
from tradeoff.platform.ingest.message import RawMessage

router = APIRouter(prefix="/v1/events", tags=["events"])

BATCH_EXAMPLE = {
    "events": [
        {
            "event_id": "gw-7-000123",
            "type": "device.heartbeat",
            "occurred_at": "2026-11-29T10:00:00Z",
            "source": "gw-7",
            "schema_version": 1,
            "payload": {"uptime_s": 3600},
        }
    ]
}


@router.post(
    "",
    summary="Ingest a batch of events",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"example": BATCH_EXAMPLE}},
        }
    },
    responses={
        200: {"description": "Every item has a status: accepted, duplicate, rejected (with field and reason)"},
        413: {"description": "Body or batch too large"},
        422: {"description": "The body is not a readable batch; it was dead-lettered"},
    },
)
async def ingest_events(
    request: Request,
    platform: PlatformDep,
    principal: Annotated[Principal, roles(*WRITERS)],
    format: Annotated[str, Query(description="decoder name; json-batch is the canonical envelope")] = "json-batch",
) -> JsonResponse:
    """Committed before the response is sent: a 200 means every accepted item is durable."""
    started = time.perf_counter()
    body = await read_body(request, platform.settings.max_body_bytes)
    message = RawMessage(
        body=body,
        transport="http",
        tenant_id=principal.tenant_id,
        received_at=utcnow(),
        source=principal.device_external_id,
        content_type=request.headers.get("content-type"),
    )
    report = await run_in_threadpool(platform.pipeline.ingest, message, decoder=format)
    metrics.INGEST_SECONDS.labels("http").observe(time.perf_counter() - started)
    return JsonResponse(report.to_json())


@router.get("", summary="Read the event log (tenant-scoped, in log order)")
def list_events(
    conn: ConnDep,
    principal: Annotated[Principal, roles(*READERS)],
    after_seq: int = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[list[str] | None, Query()] = None,
    source: str | None = None,
) -> dict[str, Any]:
    found = read_events(
        conn, after_seq=after_seq, limit=limit, tenant_id=principal.tenant_id, types=type, source=source
    )
    return {
        "events": [event.to_json() for event in found],
        "next_after_seq": found[-1].seq if found else after_seq,
    }


@router.get("/stream", summary="Server-sent events: new events as they are committed")
async def stream_events(
    request: Request,
    platform: PlatformDep,
    principal: Annotated[Principal, roles(*READERS)],
    after_seq: int | None = None,
) -> StreamingResponse:
    return StreamingResponse(
        event_stream(request, platform, principal.tenant_id, after_seq),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def event_stream(
    request: Request, platform: Platform, tenant_id: str, after_seq: int | None
) -> AsyncIterator[bytes]:
    """Polls the log (works across processes); starts at the tail unless ``after_seq`` is given."""

    def read(after: int) -> list[dict[str, Any]]:
        with platform.engine.connect() as conn:
            return [e.to_json() for e in read_events(conn, after_seq=after, limit=200, tenant_id=tenant_id)]

    def tail() -> int:
        with platform.engine.connect() as conn:
            return max_seq(conn)

    cursor = after_seq if after_seq is not None else await run_in_threadpool(tail)
    yield b": connected\n\n"
    idle = 0
    while not await request.is_disconnected():
        batch = await run_in_threadpool(read, cursor)
        for item in batch:
            cursor = item["seq"]
            yield b"id: %d\nevent: event\ndata: %s\n\n" % (cursor, orjson.dumps(item))
        if not batch:
            idle += 1
            if idle % 30 == 0:
                yield b": keep-alive\n\n"
            await asyncio.sleep(0.5)


@router.get("/{event_id}", summary="One event by its idempotency key")
def get_one_event(conn: ConnDep, principal: Annotated[Principal, roles(*READERS)], event_id: str) -> dict[str, Any]:
    event = get_event(conn, tenant_id=principal.tenant_id, event_id=event_id)
    if event is None:
        raise NotFound(f"event {event_id!r} not found in this tenant")
    return event.to_json()
