"""Ingress gates: checks every event passes after validation and before storage.

The privacy core registers its gate (consent, pseudonymization, PAN scrubbing) here. A gate returns the
event to store (possibly rewritten), ``None`` to drop it uncounted-as-error (e.g. no consent), or raises
``InvalidInput`` to reject it into the dead-letter table.

A gate that reads state per event (the privacy gate reads consent) can also be a ``BatchScopedGate``: the
pipeline then asks it once per ingest batch, before checking that batch, for the gate to check it with
(``scope_gates``), e.g. one that read the consent of every subject the batch names at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class RawBatch:
    """The valid events of one message read by a canonical JSON decoder, next to the bytes they came from.

    Every string and number of ``events`` is in ``text`` verbatim, except the values in ``implied`` that
    the transport filled in (its device as ``source``, the topic's event type). ``flat``: no payload holds
    a nested object, so the payloads' own keys are all the field names they have."""

    text: bytes
    events: Sequence[EventIn]
    implied: tuple[str, ...] = ()
    flat: bool = False


@runtime_checkable
class BatchScopedGate(Protocol):
    """A gate that prepares for one ingest batch at once and returns the gate to check that batch with.

    ``items`` are the batch's valid events with their tenants, as the pipeline validated them — *before*
    any gate ran, so for a gate after a rewriting one they are hints only: the returned gate must answer
    correctly for any event (reading what it did not prepare for). It is used for that batch, right
    away, and then dropped — never kept across batches (what it read is the state at the time of the
    batch's decisions)."""

    def for_batch(self, items: Sequence[tuple[str, EventIn]]) -> IngressGate: ...


def scope_gates(gates: Sequence[IngressGate], items: Sequence[tuple[str, EventIn]]) -> list[IngressGate]:
    """The gates to check one ingest batch with, position for position (so positions cleared by a
    ``BatchScreen`` still name the same gates): every ``BatchScopedGate`` prepared for ``items``."""
    return [gate.for_batch(items) if isinstance(gate, BatchScopedGate) else gate for gate in gates]


@runtime_checkable
class BatchScreen(Protocol):
    """A gate that can clear a whole message at once, at C speed, instead of checking event by event."""

    def passes_batch(self, batch: RawBatch) -> bool:
        """True only when ``check`` would return every event of ``batch`` unchanged (the pipeline then skips
        ``check`` for them); False when it cannot tell, and the events are checked one by one."""
        ...
