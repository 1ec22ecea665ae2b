"""QR codes for a coupon: the typed code or a link, as SVG (web, e-mail) or PNG (wallet passes, print).

Codes are upper case with dashes, which QR encodes in its compact alphanumeric mode: a 12-character
code fits the smallest symbol (version 1, 21×21 modules) with room for the highest error correction
segno can boost to. Links are encoded byte-wise. The quiet zone defaults to the 4 modules the standard
asks for; phones read screens better with it.
"""

from __future__ import annotations

import io
from typing import Literal

import segno

from tradeoff.core.errors import InvalidInput

MAX_PAYLOAD_CHARS = 1024
QrKind = Literal["svg", "png"]
MEDIA_TYPES: dict[str, str] = {"svg": "image/svg+xml", "png": "image/png"}


def qr_symbol(payload: str) -> segno.QRCode:
    """The QR symbol for ``payload`` (a coupon code or URL): error level M at least, boosted when it fits."""
    if not isinstance(payload, str) or not payload.strip():
        raise InvalidInput("payload", "must be the coupon code or a URL (non-empty text)")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise InvalidInput("payload", f"at most {MAX_PAYLOAD_CHARS} characters fit a scannable QR, got {len(payload)}")
    if any(ord(char) < 32 for char in payload):
        raise InvalidInput("payload", "must not contain control characters")
    return segno.make(payload, error="m", micro=False, boost_error=True)


def qr_bytes(payload: str, *, kind: QrKind, scale: int = 8, border: int = 4) -> bytes:
    """The QR image for ``payload`` as SVG or PNG bytes (``scale`` pixels per module)."""
    if kind not in MEDIA_TYPES:
        raise InvalidInput("kind", f"must be one of {', '.join(MEDIA_TYPES)}, got {kind!r}")
    if not 1 <= scale <= 64:
        raise InvalidInput("scale", f"must be 1–64 pixels per module, got {scale}")
    if not 0 <= border <= 16:
        raise InvalidInput("border", f"must be 0–16 modules, got {border}")
    out = io.BytesIO()
    if kind == "svg":
        qr_symbol(payload).save(out, kind="svg", scale=scale, border=border, xmldecl=False)
    else:
        qr_symbol(payload).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()
