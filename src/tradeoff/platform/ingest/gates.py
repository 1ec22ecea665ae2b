"""Ingress gates: checks every event passes after validation and before storage.

The privacy core registers its gate (consent, pseudonymization, PAN scrubbing) here. A gate returns the
event to store (possibly rewritten), ``None`` to drop it uncounted-as-error (e.g. no consent), or raises
``InvalidInput`` to reject it into the dead-letter table.
"""

from __future__ import annotations

from typing import Protocol

from tradeoff.core.events import EventIn


class IngressGate(Protocol):
    name: str

    def check(self, *, tenant_id: str, event: EventIn) -> EventIn | None: ...
