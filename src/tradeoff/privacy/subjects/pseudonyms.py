"""Keyed pseudonyms and identifier tokens: HMAC-SHA256 under per-tenant, per-purpose keys that live in the
key provider, never in the database. The same person at two tenants gets unrelated values.

- ``ps_…`` stable pseudonym of a subject (tiers 2–3): ``mac(tenant, "pseudonym", subject_id)``
- ``pd_…`` daily pseudonym (tier 1): ``mac(tenant, "pseudonym-daily", subject_id|YYYY-MM-DD)``
- ``tok_<kind>_…`` stable identifier token: ``mac(tenant, "token:<kind>", normalized value)``; the part
  after the prefix is exactly the vault's token (``Vault.tokenize``) for the kinds both know
- ``tokd_<kind>_…`` daily identifier token: ``mac(tenant, "token-daily:<kind>", normalized|YYYY-MM-DD)``

Pseudonyms are 128 bits of the MAC (26 base32 characters); tokens the whole MAC (52), as the vault writes
them. Base32's only digits are 2–7, so no token or pseudonym ever looks like a card number.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import date

from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.scrub.identifiers import IdentifierKind

STABLE_PREFIX = "ps_"
DAILY_PREFIX = "pd_"


def encode_mac(digest: bytes, *, size: int = 16) -> str:
    return base64.b32encode(digest[:size]).decode().lower().rstrip("=")


class Pseudonymizer:
    def __init__(self, keys: KeyProvider) -> None:
        self.keys = keys

    def stable(self, tenant_id: str, subject_id: str) -> str:
        return STABLE_PREFIX + encode_mac(self.keys.mac(tenant_id, "pseudonym", subject_id.encode()))

    def daily(self, tenant_id: str, subject_id: str, day: date) -> str:
        data = f"{subject_id}|{day.isoformat()}".encode()
        return DAILY_PREFIX + encode_mac(self.keys.mac(tenant_id, "pseudonym-daily", data))

    def token(self, tenant_id: str, kind: IdentifierKind, value: str, *, day: date | None) -> str:
        """``day=None`` (or a kind that is always stable): a stable token; otherwise one for that day only."""
        normalized = kind.normalize(value)
        if day is None or kind.always_stable:
            digest = self.keys.mac(tenant_id, f"token:{kind.name}", normalized.encode())
            return f"tok_{kind.name}_" + encode_mac(digest, size=len(digest))
        digest = self.keys.mac(tenant_id, f"token-daily:{kind.name}", f"{normalized}|{day.isoformat()}".encode())
        return f"tokd_{kind.name}_" + encode_mac(digest, size=len(digest))

    def tokenizer(self, tenant_id: str, *, day: date | None) -> BoundTokenizer:
        return BoundTokenizer(self, tenant_id, day)

    def all_pseudonyms(self, tenant_id: str, subject_id: str, days: Iterable[date]) -> set[str]:
        """Every pseudonym the subject's events may carry over ``days``: what erasure searches for."""
        return {self.stable(tenant_id, subject_id)} | {self.daily(tenant_id, subject_id, day) for day in days}


class BoundTokenizer:
    """A ``scrub.Tokenizer`` for one tenant and one linkability (stable, or one day)."""

    def __init__(self, pseudonymizer: Pseudonymizer, tenant_id: str, day: date | None) -> None:
        self.pseudonymizer = pseudonymizer
        self.tenant_id = tenant_id
        self.day = day

    def token(self, kind: IdentifierKind, value: str) -> str:
        return self.pseudonymizer.token(self.tenant_id, kind, value, day=self.day)
