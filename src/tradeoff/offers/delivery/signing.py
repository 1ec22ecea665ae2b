"""Webhook signatures, the Standard Webhooks scheme (https://www.standardwebhooks.com), so app developers
can verify with any of its libraries or with the dozen lines in docs/offers-delivery.md.

Every request carries three headers:

- ``webhook-id``: the message id, the same on every retry (receivers dedupe by it);
- ``webhook-timestamp``: Unix seconds when this attempt was signed;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, several separated by
  spaces while a secret is being rotated (any one matching is enough).

The secret is shown to the app developer as ``whsec_<base64 key>``; the HMAC key is the decoded bytes.
A receiver rejects a timestamp outside ``tolerance`` of its clock, so a captured request cannot be replayed
later. Pure: no I/O, no framework.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

SECRET_PREFIX = "whsec_"
VERSION = "v1"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
DEFAULT_TOLERANCE = timedelta(minutes=5)
MIN_KEY_BYTES = 24


class SignatureError(Exception):
    """The request is not from us, was altered, or is too old/new to be trusted."""


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    """A signing key; ``str()`` is never the key (it would end up in logs)."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise ValueError(f"a webhook secret needs at least {MIN_KEY_BYTES} bytes")

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        """``whsec_<base64>`` (the prefix is optional, as in Standard Webhooks) → the key."""
        raw = text.strip().removeprefix(SECRET_PREFIX)
        try:
            return cls(base64.b64decode(raw, validate=True))
        except ValueError as exc:
            raise ValueError("a webhook secret is whsec_ followed by base64") from exc

    def reveal(self) -> str:
        """The form shown to the app developer once (``whsec_…``)."""
        return SECRET_PREFIX + base64.b64encode(self.key).decode()

    def __repr__(self) -> str:
        return "WebhookSecret(***)"

    __str__ = __repr__


def _sign(secret: WebhookSecret, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(secret.key, content, hashlib.sha256).digest()).decode()


def sign_headers(secrets: Sequence[WebhookSecret], *, msg_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The three headers for one attempt; one signature per secret (the current one first)."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    if not msg_id or any(c in msg_id for c in ". \r\n"):
        raise ValueError("the message id must be non-empty, without dots, spaces or newlines")
    timestamp = int(at.timestamp())
    signatures = " ".join(f"{VERSION},{_sign(secret, msg_id, timestamp, body)}" for secret in secrets)
    return {ID_HEADER: msg_id, TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signatures}


def verify(
    secret: WebhookSecret | str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> str:
    """Check a received webhook; the message id when it is genuine and fresh, ``SignatureError`` otherwise.

    ``headers`` may use any case (a plain dict is lower-cased here). Verify the raw body bytes as received,
    before any JSON parsing."""
    key = WebhookSecret.parse(secret) if isinstance(secret, str) else secret
    lower = {name.lower(): value for name, value in headers.items()}
    msg_id, stamp, header = lower.get(ID_HEADER), lower.get(TIMESTAMP_HEADER), lower.get(SIGNATURE_HEADER)
    if not msg_id or not stamp or not header:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not an integer") from None
    age = now.timestamp() - timestamp
    if abs(age) > tolerance.total_seconds():
        raise SignatureError("webhook-timestamp is outside the tolerance window (replayed or clock skew)")
    expected = _sign(key, msg_id, timestamp, body).encode()
    for candidate in header.split(" "):
        version, _, signature = candidate.partition(",")
        if version == VERSION and hmac.compare_digest(signature.encode(), expected):
            return msg_id
    raise SignatureError("no signature matches")
