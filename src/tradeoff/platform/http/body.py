"""Reading request bodies with a size limit, refused as early as the client lets us."""

from __future__ import annotations

from fastapi import Request

from tradeoff.core.errors import TooLarge


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"body is {declared} bytes; the limit is {limit}", details={"limit": limit})
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body exceeds the limit of {limit} bytes", details={"limit": limit})
        chunks.append(chunk)
    return b"".join(chunks)
