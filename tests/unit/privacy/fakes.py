"""Test doubles for the privacy core: an in-memory key provider and a consent reader."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from tradeoff.privacy.consent import RENEWAL_PERIOD, Basis, ConsentRecord, ConsentState, Purpose, Source
from tradeoff.privacy.keys import WrappedKey


class MemoryKeys:
    """``KeyProvider`` with fixed per-tenant MAC roots (only ``mac`` is used by the consent core)."""

    def __init__(self) -> None:
        self.calls = 0

    def mac(self, tenant_id: str, purpose: str, data: bytes) -> bytes:
        self.calls += 1
        root = hashlib.sha256(f"root/{tenant_id}".encode()).digest()
        key = hmac.new(root, f"tradeoff/{purpose}".encode(), hashlib.sha256).digest()
        return hmac.new(key, data, hashlib.sha256).digest()

    def wrap(self, tenant_id: str, key: bytes) -> WrappedKey:
        raise NotImplementedError

    def unwrap(self, tenant_id: str, wrapped: WrappedKey) -> bytes:
        raise NotImplementedError

    def current_version(self, tenant_id: str) -> int:
        return 1

    def rotate(self, tenant_id: str) -> int:
        raise NotImplementedError


class FakeConsent:
    """``ConsentReader`` answering from a dict of states; unknown subjects are unknown."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], ConsentState] = {}
        self.lookups = 0

    def state(self, *, tenant_id: str, subject_id: str, at: datetime | None = None) -> ConsentState:
        self.lookups += 1
        found = self.states.get((tenant_id, subject_id))
        return found or ConsentState(tenant_id=tenant_id, subject_id=subject_id, known=False, latest={})


def state_with(
    tenant_id: str,
    subject_id: str,
    purposes: set[Purpose],
    *,
    at: datetime,
    renew_by: datetime | None = None,
    known: bool = True,
) -> ConsentState:
    """A state where exactly ``purposes`` are granted (recorded at ``at``) and the others withdrawn."""
    latest = {
        purpose: ConsentRecord(
            id=index,
            tenant_id=tenant_id,
            subject_id=subject_id,
            purpose=purpose,
            granted=purpose in purposes,
            requested=purpose in purposes,
            gpc=False,
            basis=Basis.EXPLICIT,
            policy_version="v1",
            source=Source.APP,
            recorded_at=at,
            renew_by=(renew_by or at + RENEWAL_PERIOD) if purpose in purposes else None,
        )
        for index, purpose in enumerate(Purpose, start=1)
    }
    return ConsentState(tenant_id=tenant_id, subject_id=subject_id, known=known, latest=latest)
