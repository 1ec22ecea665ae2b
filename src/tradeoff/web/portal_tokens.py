"""Sealed, expiring values for the shopper portal: the one-time links and the portal session cookie.

Both carry a subject id, which must be neither readable (URLs end up in browser history and access logs)
nor forgeable. They are Fernet tokens (AES-128-CBC + HMAC-SHA256 with an authenticated timestamp) under a
key derived per purpose from the dashboard's secret (``TRADEOFF_SECRET_KEY`` or ``var/secret_key``), so a
link sealed by one server opens on every server that shares the secret, and a session cookie can never be
passed off as a link or the other way round.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken

LINK_PURPOSE = "link"
SESSION_PURPOSE = "session"
MAX_TOKEN_LENGTH = 2048  # a sealed value is a few hundred characters; anything longer is refused unread


def derive_key(secret: str, purpose: str) -> bytes:
    """A Fernet key for ``purpose``: HMAC-SHA256 of the purpose under the server secret."""
    if not secret:
        raise ValueError("the portal needs a non-empty server secret")
    digest = hmac.new(secret.encode(), f"tradeoff/portal/{purpose}/v1".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)


class Sealer:
    """Seals JSON objects into opaque URL-safe strings that open only before they expire."""

    def __init__(self, secret: str, purpose: str) -> None:
        self.purpose = purpose
        self._fernet = Fernet(derive_key(secret, purpose))

    def seal(self, payload: dict[str, Any], *, now: datetime) -> str:
        token = self._fernet.encrypt_at_time(orjson.dumps(payload), int(now.timestamp()))
        return token.decode("ascii")

    def unseal(self, token: str | None, *, max_age: timedelta, now: datetime) -> dict[str, Any] | None:
        """The payload, or ``None`` when the value is missing, altered, sealed for another purpose or
        secret, older than ``max_age`` or from the future (beyond Fernet's 60 s of clock skew)."""
        if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
            return None
        try:
            plain = self._fernet.decrypt_at_time(token, int(max_age.total_seconds()), int(now.timestamp()))
            value = orjson.loads(plain)
        except (InvalidToken, orjson.JSONDecodeError):
            return None
        return value if isinstance(value, dict) else None
