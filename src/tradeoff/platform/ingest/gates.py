"""Ingress gates: checks every event passes after validation and before storage.

The privacy core registers its gate (consent, pseudonymization, PAN scrubbing) here. A gate returns the
event to store (possibly rewritten), ``None`` to drop it uncounted-as-error (e.g. no consent), or raises
``InvalidInput`` to reject it into the dead-letter table.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tradeoff.core.events import EventIn


class IngressGate(Protocol):
    name: str

    def check(self, *, tenant_id: str, event: EventIn) -> EventIn | None: ...


@runtime_checkable
class RawScrubber(Protocol):
    """A gate that also cleans what the pipeline keeps raw: dead-lettered input and rejection reasons.

    Items that fail decoding or validation are dead-lettered before any gate sees them; without this a
    card number in such an item would be stored as sent."""

    def scrub_raw(self, raw: bytes) -> bytes: ...

    def scrub_text(self, text: str) -> str: ...
