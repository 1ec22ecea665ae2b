"""Consent read once for a whole batch: what a batch of decisions (an ingest batch, a processor
transaction) is decided on, instead of one ledger read per event.

A snapshot lives for one batch only. It is built at the start of the batch, on the batch's own
transaction where there is one (``read_snapshot``), so every decision of the batch is taken against the
state committed when the batch began; the next batch builds a new one, so a withdrawal committed between
two batches applies from the next batch on. Nothing here is kept across batches or time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import Connection

from tradeoff.privacy.consent.ledger import ConsentReader, consent_state, consent_states
from tradeoff.privacy.consent.model import ConsentState


class ConsentSnapshot:
    """A ``ConsentReader`` answering from states read together; a subject it does not hold (or a question
    about another time, ``at``) goes to ``fallback``, and with no fallback is unknown (fail closed)."""

    def __init__(
        self, states: Mapping[tuple[str, str], ConsentState], *, fallback: ConsentReader | None = None
    ) -> None:
        self._states = dict(states)
        self._fallback = fallback

    def __len__(self) -> int:
        return len(self._states)

    def state(self, *, tenant_id: str, subject_id: str, at: datetime | None = None) -> ConsentState:
        if at is None and (found := self._states.get((tenant_id, subject_id))) is not None:
            return found
        if self._fallback is not None:
            return self._fallback.state(tenant_id=tenant_id, subject_id=subject_id, at=at)
        return ConsentState(tenant_id=tenant_id, subject_id=subject_id, known=False, latest={})


@runtime_checkable
class ConsentSnapshots(Protocol):
    """A consent reader that can also read many subjects at once (``ConsentCache``)."""

    def snapshot(self, pairs: Iterable[tuple[str, str]]) -> ConsentSnapshot: ...


class _OnConnection:
    """``ConsentReader`` over a connection the caller owns (its transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def state(self, *, tenant_id: str, subject_id: str, at: datetime | None = None) -> ConsentState:
        return consent_state(self.conn, tenant_id=tenant_id, subject_id=subject_id, at=at)


def read_snapshot(conn: Connection, pairs: Iterable[tuple[str, str]]) -> ConsentSnapshot:
    """The current states of ``(tenant_id, subject_id)`` pairs, read on ``conn`` — the caller's
    transaction — in one query per tenant (and ``BATCH_CHUNK`` subjects). Anything asked of it later that
    it does not hold is read on the same connection."""
    by_tenant: dict[str, set[str]] = {}
    for tenant_id, subject_id in pairs:
        by_tenant.setdefault(tenant_id, set()).add(subject_id)
    states: dict[tuple[str, str], ConsentState] = {}
    for tenant_id, subject_ids in by_tenant.items():
        found = consent_states(conn, tenant_id=tenant_id, subject_ids=subject_ids)
        states.update(((tenant_id, subject_id), state) for subject_id, state in found.items())
    return ConsentSnapshot(states, fallback=_OnConnection(conn))
