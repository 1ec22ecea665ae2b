"""Who the audit chain says acted: stable ids, never an e-mail address (``chain.check_actor`` refuses one)."""

from __future__ import annotations

import hashlib

from tradeoff.platform.auth import Principal

SUBJECT = "subject"  # the data subject themselves, through their app token (``subject_ref`` says who)
SYSTEM = "system"
CLI = "cli"


def actor_of(principal: Principal) -> str:
    """``key:<api key id>`` or ``user:<dashboard user name>`` (hashed when it looks like an e-mail)."""
    if principal.key_id:
        return f"key:{principal.key_id}"
    name = principal.username or "unknown"
    if "@" in name:
        name = "sha256:" + hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"user:{name}"
