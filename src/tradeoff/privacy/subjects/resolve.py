"""Stable pseudonym → subject, for consumers downstream of the gate (offers, delivery) that must ask the
consent ledger about the shopper behind a stored ``ps_…`` pseudonym.

The pseudonym is a keyed MAC of the subject id under a key that never leaves the key provider, so the
only way back is to recompute the pseudonyms of the tenant's subjects. The index keeps what it computed
(pseudonym ↔ subject is fixed for a tenant key, whatever the subject's consent: consent is always read
afresh by the caller), and a batch of pseudonyms costs at most one id query for the subjects registered
since. A daily pseudonym (``pd_…``, tier 1) never resolves, by design.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sqlalchemy import Connection, select

from tradeoff.privacy.subjects.pseudonyms import STABLE_PREFIX, Pseudonymizer
from tradeoff.privacy.subjects.store import subjects


class StablePseudonymIndex:
    """Per tenant: stable pseudonym → subject id, filled from the ``subjects`` table on a miss."""

    def __init__(self, pseudonyms: Pseudonymizer) -> None:
        self.pseudonyms = pseudonyms
        self._maps: dict[str, dict[str, str]] = {}
        self._known: dict[str, set[str]] = {}
        self._lock = threading.Lock()  # one index may serve several processor threads
        self.scans = 0  # id queries done (for tests)

    def subjects_of(self, conn: Connection, *, tenant_id: str, pseudonyms: Iterable[str]) -> dict[str, str]:
        """The subject of each stable pseudonym in ``pseudonyms`` that belongs to a subject of the tenant
        (closed ones included: their consent says they get nothing); others are left out."""
        stable = {p for p in pseudonyms if p.startswith(STABLE_PREFIX)}
        with self._lock:
            mapping = self._maps.setdefault(tenant_id, {})
            if not stable <= mapping.keys():
                self._add_new_subjects(conn, tenant_id, mapping)
            return {p: mapping[p] for p in stable if p in mapping}

    def _add_new_subjects(self, conn: Connection, tenant_id: str, mapping: dict[str, str]) -> None:
        known = self._known.setdefault(tenant_id, set())
        self.scans += 1
        ids = conn.execute(select(subjects.c.subject_id).where(subjects.c.tenant_id == tenant_id)).scalars()
        for subject_id in set(ids) - known:
            mapping[self.pseudonyms.stable(tenant_id, subject_id)] = subject_id
            known.add(subject_id)
