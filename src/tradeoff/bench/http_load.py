"""The HTTP client side: pre-built batches posted over a few keep-alive connections."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx
import orjson

from tradeoff.bench.report import Measurement
from tradeoff.bench.services import BenchError


@dataclass(frozen=True, slots=True)
class _Ack:
    started: float
    finished: float
    accepted: int


async def _post(client: httpx.AsyncClient, body: bytes) -> _Ack:
    started = time.monotonic()
    response = await client.post("/v1/events", content=body)
    finished = time.monotonic()
    if response.status_code != 200:
        raise BenchError(f"POST /v1/events answered {response.status_code}: {response.text[:500]}")
    return _Ack(started, finished, int(orjson.loads(response.content)["accepted"]))


async def _post_all(base_url: str, api_key: str, bodies: list[bytes], concurrency: int) -> list[_Ack]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"authorization": f"Bearer {api_key}", "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=120) as client:
        pending = iter(bodies)
        acks: list[_Ack] = []

        async def worker() -> None:
            for body in pending:  # the iterator is shared: each body is sent once
                acks.append(await _post(client, body))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return acks


def post_batches(base_url: str, api_key: str, bodies: list[bytes], *, events: int, concurrency: int) -> Measurement:
    """Send every body; wall clock runs from the first send to the last acknowledgement (HTTP 200)."""
    acks = asyncio.run(_post_all(base_url, api_key, bodies, concurrency))
    accepted = sum(ack.accepted for ack in acks)
    if accepted != events:
        raise BenchError(f"the server accepted {accepted} of {events} events")
    started = min(ack.started for ack in acks)
    finished = max(ack.finished for ack in acks)
    return Measurement(events, finished - started, [ack.finished - ack.started for ack in acks])
