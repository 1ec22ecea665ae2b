"""Identifiers: random, URL-safe and sortable by creation time."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    """A 32-hex-char id whose first 12 chars are the millisecond timestamp (UUIDv7 layout)."""
    millis = int(time.time() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | rand
    return f"{value:032x}"


def new_slug_suffix() -> str:
    return os.urandom(3).hex()
