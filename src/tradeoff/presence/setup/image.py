"""The floor plan's background image: a PNG, JPEG or SVG the merchant uploads (a photo of the fire
escape plan, an export from a drawing tool).

The type is decided by the bytes, never by the client's header. Images live in the database (one row per
site, at most ``MAX_IMAGE_BYTES``), so several servers and the backups see the same plan with no shared
disk. An SVG can carry scripts: it is never inlined into a page, only referenced from ``<img>``/``<image>``
(where browsers run no script) and served with a sandboxing Content-Security-Policy (see ``IMAGE_HEADERS``).
"""

from __future__ import annotations

import re

from tradeoff.core.errors import InvalidInput, TooLarge

MAX_IMAGE_BYTES = 2 * 1024 * 1024
CONTENT_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
# For the image URL itself: opened directly, an SVG runs nothing and loads nothing.
IMAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-cache",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_SVG_PROLOGUE = re.compile(r"^(?:\s+|<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE svg[^>\[]*>)*", re.DOTALL | re.IGNORECASE)


def sniff(data: bytes) -> str:
    """The content type of an uploaded plan image, or ``InvalidInput`` / ``TooLarge``."""
    if not data:
        raise InvalidInput("image", "is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"the image is {len(data)} bytes; at most {MAX_IMAGE_BYTES} are accepted")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("image", "must be a PNG, JPEG or SVG file") from None
    if "<!ENTITY" in text.upper():
        raise InvalidInput("image", "SVG with entity declarations is not accepted")
    if re.match(r"<svg[\s>]", text[_SVG_PROLOGUE.match(text).end() :]):  # type: ignore[union-attr]
        return "image/svg+xml"
    raise InvalidInput("image", "must be a PNG, JPEG or SVG file")
