"""The audit chain's pure parts: entries, their canonical form and the keyed MAC that links them.

``mac_i = HMAC(k_audit(tenant), prev_mac_i || canonical_json(entry_i))`` with the key from
``KeyProvider.mac(tenant, "audit", …)`` (it lives in the keyring, outside the database), and
``prev_mac_1`` = 32 zero bytes. The canonical JSON covers the tenant and ``seq`` too, so an entry cannot
be renumbered, moved to another tenant or replayed elsewhere without its MAC failing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from tradeoff.core.errors import InvalidInput
from tradeoff.privacy.keys import KeyProvider

GENESIS = bytes(32)
AUDIT_PURPOSE = "audit"
SUBJECT_PURPOSE = "audit-subject"
MAX_DETAILS_BYTES = 8192

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_CARD_LIKE = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
_PERSONAL_KEYS = frozenset(
    {"subject_id", "email", "phone", "name", "first_name", "last_name", "address", "pan", "card_number", "ip"}
)


class Action(StrEnum):
    """Actions the privacy core records. Other modules may use any ``area.verb`` name."""

    CONSENT_CHANGED = "consent.changed"
    DSR_EXPORT = "dsr.export"
    DSR_ERASE = "dsr.erase"
    KEY_ROTATE = "key.rotate"
    KEY_REWRAPPED = "key.rewrapped"
    PERSONAL_READ = "personal.read"
    RELEASE_PUBLISHED = "release.published"
    EXPORT_REFUSED = "release.export_refused"
    BUDGET_CHANGED = "release.budget_changed"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    tenant_id: str
    seq: int
    recorded_at: datetime
    actor: str
    action: str
    subject_ref: str | None
    details: Mapping[str, Any]
    prev_mac: str  # hex
    mac: str  # hex


def canonical_entry(
    *,
    tenant_id: str,
    seq: int,
    recorded_at: datetime,
    actor: str,
    action: str,
    subject_ref: str | None,
    details: Mapping[str, Any],
) -> bytes:
    """Sorted-key compact JSON; times as UTC ISO-8601 with microseconds (what both backends store)."""
    document = {
        "v": 1,
        "tenant_id": tenant_id,
        "seq": seq,
        "recorded_at": recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject_ref": subject_ref,
        "details": details,
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def entry_mac(keys: KeyProvider, *, prev_mac: bytes, canonical: bytes, tenant_id: str) -> bytes:
    return keys.mac(tenant_id, AUDIT_PURPOSE, prev_mac + canonical)


def mac_of(keys: KeyProvider, entry: AuditEntry, *, seq: int | None = None) -> str:
    """The MAC ``entry`` should carry if it were authentic at ``seq`` (default: its own)."""
    canonical = canonical_entry(
        tenant_id=entry.tenant_id,
        seq=entry.seq if seq is None else seq,
        recorded_at=entry.recorded_at,
        actor=entry.actor,
        action=entry.action,
        subject_ref=entry.subject_ref,
        details=entry.details,
    )
    try:
        prev = bytes.fromhex(entry.prev_mac)
    except ValueError:
        prev = entry.prev_mac.encode()  # a mangled prev_mac still yields a (wrong) MAC, never a crash
    return entry_mac(keys, prev_mac=prev, canonical=canonical, tenant_id=entry.tenant_id).hex()


def subject_ref(keys: KeyProvider, tenant_id: str, subject_id: str) -> str:
    """The pseudonymous reference the log stores for a subject; recompute it to find their entries."""
    return keys.mac(tenant_id, SUBJECT_PURPOSE, subject_id.encode()).hex()


def check_action(action: str) -> str:
    if len(action) > 64 or not _ACTION.match(action):
        raise InvalidInput("action", "must look like 'area.verb' (lowercase, at most 64 characters)")
    return action


def check_actor(actor: str) -> str:
    if not actor or len(actor) > 128 or not actor.isprintable():
        raise InvalidInput("actor", "must be a user id, key id or 'system' (1–128 printable characters)")
    if _EMAIL.search(actor):
        raise InvalidInput("actor", "use the user's or key's id, not an email address")
    return actor


def check_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """JSON-safe, small and free of the obvious forms of personal data; returned as stored (round-tripped)."""
    if details is None:
        return {}
    _refuse_non_finite(details, "details")
    try:
        encoded = orjson.dumps(details)
    except TypeError as exc:
        raise InvalidInput("details", f"must be plain JSON: {exc}") from None
    if len(encoded) > MAX_DETAILS_BYTES:
        raise InvalidInput("details", f"at most {MAX_DETAILS_BYTES} bytes of JSON")
    value = orjson.loads(encoded)
    if not isinstance(value, dict):
        raise InvalidInput("details", "must be a JSON object")
    _scan(value, "details")
    return value


def _scan(value: Any, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() in _PERSONAL_KEYS:
                raise InvalidInput(f"{path}.{key}", "personal data does not belong in the audit log")
            _scan(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _scan(item, f"{path}[{index}]")
    elif isinstance(value, str) and (_EMAIL.search(value) or _has_card_number(value)):
        raise InvalidInput(path, "looks like an email address or card number; personal data stays out of the log")


def _has_card_number(value: str) -> bool:
    """13–19 digits (spaces or dashes allowed) standing alone and passing the Luhn check."""
    for match in _CARD_LIKE.finditer(value):
        digits = [int(d) for d in match.group() if d.isdigit()]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
        if total % 10 == 0:
            return True
    return False


def _refuse_non_finite(value: Any, path: str) -> None:
    """orjson writes NaN and infinities as null; refuse them instead of changing what was recorded."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(path, "must be a finite number")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_non_finite(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_non_finite(item, f"{path}[{index}]")
