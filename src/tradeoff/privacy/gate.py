"""The privacy ingress gate: consent, pseudonyms, identifier tokens and card-data scrubbing, before storage.

For every event:
1. Card data goes: PANs (Luhn + known issuer prefix), track data, CVV/CVC/PIN fields and our own
   secrets are removed from the payload at any depth (keys and values, inside free text). Scrubbing, not
   rejecting: the rest of the event is kept, and nothing raw reaches the dead-letter table from here.
2. If the payload names a shopper (``payload.subject`` = the ``subject_id`` issued at registration), the
   event type's purpose (``consent.purposes``) must be in force for that subject *now*; otherwise the event
   is dropped (counted, never stored). An unknown or closed subject, an unregistered event type or a
   malformed subject reference are dropped too (fail closed). Where the pipeline scopes gates per ingest
   batch (``for_batch``), the consent of all the batch's subjects is read at once just before the batch
   is checked, and forgotten with it.
3. The subject reference becomes a pseudonym: stable (``ps_…``) when personalization or purchase linking
   is in force, otherwise one that rotates daily (``pd_…``, the day of ``occurred_at`` in the offset the
   producer sent). The event id is replaced by a keyed hash, so producer ids cannot link days either.
4. Identifier fields (e-mail, phone, MAC, device/advertising/install ids, IP) and e-mail addresses or
   international phone numbers in free text become keyed tokens: stable alongside a stable pseudonym,
   daily otherwise (events without a subject included): nothing per person links across days without
   tier-2 consent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import chain
from typing import Any

import orjson
from prometheus_client import Counter

from tradeoff.core.clock import Clock, SystemClock
from tradeoff.core.events import EventIn
from tradeoff.platform.ingest.gates import RawBatch
from tradeoff.privacy.consent.ledger import ConsentReader
from tradeoff.privacy.consent.purposes import DEFAULT_EVENT_PURPOSES, EventPurposes
from tradeoff.privacy.consent.snapshot import ConsentSnapshots
from tradeoff.privacy.scrub import (
    DEFAULT_IDENTIFIERS,
    IdentifierRegistry,
    TooDeep,
    fields_need_scrub,
    find_pans,
    json_keys,
    raw_json_needs_scrub,
    scrub,
    scrub_bytes,
    scrub_text,
)
from tradeoff.privacy.subjects.pseudonyms import Pseudonymizer, encode_mac

SUBJECT_FIELD = "subject"

DROPPED = Counter("tradeoff_privacy_dropped_total", "Events the privacy gate dropped before storage", ["reason"])
SCRUBBED = Counter(
    "tradeoff_privacy_scrubbed_total", "Values the privacy gate removed or replaced by a token", ["kind"]
)


class PrivacyGate:
    """``IngressGate`` of the privacy core; also the scrubber for raw input kept in dead letters."""

    name = "privacy"

    def __init__(
        self,
        *,
        consent: ConsentReader,
        pseudonyms: Pseudonymizer,
        purposes: EventPurposes = DEFAULT_EVENT_PURPOSES,
        identifiers: IdentifierRegistry = DEFAULT_IDENTIFIERS,
        clock: Clock | None = None,
    ) -> None:
        self.consent = consent
        self.pseudonyms = pseudonyms
        self.purposes = purposes
        self.identifiers = identifiers
        self.clock = clock or SystemClock()

    def check(self, *, tenant_id: str, event: EventIn) -> EventIn | None:
        if find_pans(event.type):
            return _drop("card_data_in_envelope")
        payload = event.payload
        day = event.occurred_at.date()
        update: dict[str, Any] = {}
        pseudonym: str | None = None
        token_day: date | None = day
        if SUBJECT_FIELD in payload:
            subject_id = payload[SUBJECT_FIELD]
            if not isinstance(subject_id, str) or not subject_id:
                return _drop("bad_subject")
            purpose = self.purposes.purpose_for(event.type)
            if purpose is None:
                return _drop("unclassified_type")
            state = self.consent.state(tenant_id=tenant_id, subject_id=subject_id)
            now = self.clock.now()
            if not state.known:
                return _drop("unknown_subject")
            if not state.allows(purpose, now):
                return _drop("no_consent")
            if state.stable_pseudonym(now):
                pseudonym, token_day = self.pseudonyms.stable(tenant_id, subject_id), None
            else:
                pseudonym = self.pseudonyms.daily(tenant_id, subject_id, day)
            update["event_id"] = self._keyed("event-id", tenant_id, f"{subject_id}|{event.event_id}")
            payload = {key: value for key, value in payload.items() if key != SUBJECT_FIELD}
        elif find_pans(event.event_id):
            update["event_id"] = self._keyed("event-id", tenant_id, event.event_id)
        if event.source is not None and find_pans(event.source):
            update["source"] = self._keyed("source", tenant_id, event.source)
        try:
            scrubbed = scrub(
                payload, tokenizer=self.pseudonyms.tokenizer(tenant_id, day=token_day), identifiers=self.identifiers
            )
        except TooDeep:
            return _drop("too_deep")
        for kind, count in scrubbed.counts.items():
            SCRUBBED.labels(kind).inc(count)
        if pseudonym is not None:
            update["payload"] = {SUBJECT_FIELD: pseudonym, **scrubbed.value}
        elif scrubbed.changed:
            update["payload"] = scrubbed.value
        return event.model_copy(update=update) if update else event

    def for_batch(self, items: Sequence[tuple[str, EventIn]]) -> PrivacyGate:
        """``BatchScopedGate``: this gate for one ingest batch, with the consent of every subject the
        batch names read at once (``ConsentCache.snapshot``: one read instead of one per event), just
        before the batch is checked — so each event is still decided on the state committed at the time
        of its decision, and the snapshot is dropped with the batch. A subject it does not hold is read
        as before; a consent reader that cannot read in batches is used as is."""
        snapshots = self.consent
        if not isinstance(snapshots, ConsentSnapshots):
            return self
        pairs = {
            (tenant_id, subject)
            for tenant_id, event in items
            if isinstance(subject := event.payload.get(SUBJECT_FIELD), str)
            and subject
            and self.purposes.purpose_for(event.type) is not None
        }
        if not pairs:
            return self
        return PrivacyGate(
            consent=snapshots.snapshot(pairs),
            pseudonyms=self.pseudonyms,
            purposes=self.purposes,
            identifiers=self.identifiers,
            clock=self.clock,
        )

    def passes_batch(self, batch: RawBatch) -> bool:
        """The common message decided at once (``BatchScreen``): no payload names a subject, and neither the
        raw JSON nor the values the transport filled in hold anything ``check`` would scrub or tokenize, so
        ``check`` would return every event unchanged. One pass of C-level searches over the message
        instead of a JSON dump and a dozen searches per event; anything unclear goes event by event."""
        if raw_json_needs_scrub(batch.text):
            return False
        if batch.implied and raw_json_needs_scrub("\n".join(batch.implied).encode()):  # joined: a superset
            return False
        if batch.flat:  # no nested objects: the payloads' own keys are all the field names
            keys = frozenset(chain.from_iterable(event.payload for event in batch.events))
        else:
            keys = json_keys(batch.text)
        return SUBJECT_FIELD not in keys and not fields_need_scrub(keys, self.identifiers)

    def _keyed(self, purpose: str, tenant_id: str, value: str) -> str:
        return "k_" + encode_mac(self.pseudonyms.keys.mac(tenant_id, purpose, value.encode()))

    # What the pipeline should apply to anything it keeps raw (dead letters) or reports (rejection reasons).
    @staticmethod
    def scrub_raw(raw: bytes) -> bytes:
        """Card data and identifiers go (``scrub_bytes``); a rejected event about a shopper also loses its
        subject reference and its producer event id (apps build those from install ids + a counter)."""
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return scrub_bytes(raw)
        return scrub_bytes(orjson.dumps(doc)) if _forget_subject_refs(doc) else scrub_bytes(raw)

    @staticmethod
    def scrub_text(text: str) -> str:
        return scrub_text(text)


SUBJECT_REMOVED = "[SUBJECT REMOVED]"
EVENT_ID_REMOVED = "[EVENT ID REMOVED]"


def _forget_subject_refs(doc: Any) -> bool:
    """In an envelope, an array of them or a ``{"events": [...]}`` batch: the subject reference and event id
    of every event whose payload names a subject are replaced by markers. True when anything changed."""
    items = doc.get("events") if isinstance(doc, dict) and isinstance(doc.get("events"), list) else doc
    changed = False
    for item in items if isinstance(items, list) else [items]:
        if not isinstance(item, dict):
            continue
        payload = item.get("payload")
        if isinstance(payload, dict) and SUBJECT_FIELD in payload:
            payload[SUBJECT_FIELD] = SUBJECT_REMOVED
            if "event_id" in item:
                item["event_id"] = EVENT_ID_REMOVED
            changed = True
    return changed


def _drop(reason: str) -> EventIn | None:
    DROPPED.labels(reason).inc()
    return None
