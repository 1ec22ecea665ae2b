"""``/v1/me/offers``: what the shopper's app fetches, authenticated by its app token (``Bearer ta_…``).

- ``GET /v1/me/offers`` — current offers (code, QR link, terms, expiry, receipt) and a ``cursor``; with
  ``?wait=N&after=<cursor>`` (long-poll, N ≤ 30 s) it answers as soon as an offer newer than ``after``
  exists, or after N seconds with the same list.
- ``GET /v1/me/offers/stream`` — Server-Sent Events: an ``offer`` event per new offer (``id:`` is the
  cursor, so ``Last-Event-ID`` resumes), a comment line as heartbeat; it ends after ``timeout`` seconds
  and the client reconnects.
- ``GET /v1/me/offers/{coupon_id}`` and ``…/qr.svg`` — one offer; its QR code (the typed code).
- ``POST /v1/me/offers/{coupon_id}/displayed`` and ``…/opened`` — receipts, idempotent.
Fetching an offer records it as delivered. Without personalization consent the list is empty.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from tradeoff.offers.delivery import shopper
from tradeoff.offers.delivery.receipts import Milestone
from tradeoff.platform.container import Platform
from tradeoff.platform.http.deps import PlatformDep
from tradeoff.privacy.me_api import Me
from tradeoff.privacy.subjects import SubjectPrincipal

router = APIRouter(prefix="/v1/me/offers", tags=["me (shopper app)"])
MAX_WAIT = 30
HEARTBEAT_SECONDS = 15.0
NO_STORE = {"Cache-Control": "no-store, private"}


def _doc(found: shopper.Snapshot) -> dict[str, Any]:
    return {
        "offers": [offer.to_json() for offer in found.offers],
        "cursor": found.cursor,
        "consent": found.consented,
    }


def _snapshot(platform: Platform, me: SubjectPrincipal) -> shopper.Snapshot:
    return shopper.snapshot(platform, tenant_id=me.tenant_id, subject_id=me.subject_id)


@router.get("", summary="The shopper's current offers (long-poll with ?wait=&after=)")
async def list_offers(
    request: Request,
    platform: PlatformDep,
    me: Me,
    response: Response,
    wait: Annotated[int, Query(ge=0, le=MAX_WAIT, description="seconds to wait for an offer newer than after")] = 0,
    after: Annotated[int | None, Query(ge=0, description="the cursor of the last answer")] = None,
) -> dict[str, Any]:
    """Without ``after`` it answers at once. ``cursor`` is what to send as ``after`` next time."""
    response.headers.update(NO_STORE)
    if wait and after is not None:
        await shopper.wait_for_new(
            platform,
            tenant_id=me.tenant_id,
            subject_id=me.subject_id,
            after=after,
            seconds=wait,
            disconnected=request.is_disconnected,
        )
    return _doc(await run_in_threadpool(_snapshot, platform, me))


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


@router.get("/stream", summary="Server-Sent Events: one 'offer' event per new offer")
async def stream_offers(
    request: Request,
    platform: PlatformDep,
    me: Me,
    after: Annotated[int | None, Query(ge=0)] = None,
    timeout: Annotated[int, Query(ge=1, le=300, description="seconds before the stream ends")] = 300,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Without ``after`` or ``Last-Event-ID`` the current offers are sent first, then the new ones."""
    if after is None and last_event_id and last_event_id.isdigit():
        after = int(last_event_id)
    start = -1 if after is None else after

    async def events() -> AsyncIterator[bytes]:
        cursor = start
        deadline = time.monotonic() + timeout
        yield b"retry: 3000\n\n"
        while True:
            found = await run_in_threadpool(_snapshot, platform, me)
            for offer in sorted(found.offers, key=lambda o: o.cursor):
                if offer.cursor > cursor:
                    yield _sse("offer", offer.to_json(), offer.cursor)
            cursor = max(cursor, found.cursor)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or await request.is_disconnected():
                return
            woke = await shopper.wait_for_new(
                platform, tenant_id=me.tenant_id, subject_id=me.subject_id, after=cursor,
                seconds=min(HEARTBEAT_SECONDS, remaining), disconnected=request.is_disconnected,
            )  # fmt: skip
            if not woke:
                yield b": keep-alive\n\n"

    headers = {**NO_STORE, "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/{coupon_id}", summary="One offer (any state), with its code")
def get_offer(platform: PlatformDep, me: Me, coupon_id: str, response: Response) -> dict[str, Any]:
    response.headers.update(NO_STORE)
    offer = shopper.one_offer(platform, tenant_id=me.tenant_id, subject_id=me.subject_id, coupon_id=coupon_id)
    return offer.to_json()


@router.get("/{coupon_id}/qr.svg", summary="The offer's QR code (SVG, encodes the typed code)")
def get_qr(platform: PlatformDep, me: Me, coupon_id: str) -> Response:
    svg = shopper.qr_svg(platform, tenant_id=me.tenant_id, subject_id=me.subject_id, coupon_id=coupon_id)
    return Response(svg, media_type="image/svg+xml", headers=NO_STORE)


def _receipt(platform: Platform, me: SubjectPrincipal, coupon_id: str, milestone: Milestone) -> dict[str, Any]:
    offer = shopper.mark(
        platform, tenant_id=me.tenant_id, subject_id=me.subject_id, coupon_id=coupon_id, milestone=milestone
    )
    return {"coupon_id": offer.coupon_id, "receipt": offer.receipt.to_json() if offer.receipt else None}


@router.post("/{coupon_id}/displayed", summary="The app showed the offer (idempotent; the first time counts)")
def displayed(platform: PlatformDep, me: Me, coupon_id: str) -> dict[str, Any]:
    return _receipt(platform, me, coupon_id, Milestone.DISPLAYED)


@router.post("/{coupon_id}/opened", summary="The shopper opened the offer (idempotent; implies displayed)")
def opened(platform: PlatformDep, me: Me, coupon_id: str) -> dict[str, Any]:
    return _receipt(platform, me, coupon_id, Milestone.OPENED)
