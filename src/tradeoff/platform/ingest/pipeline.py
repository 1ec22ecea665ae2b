"""The ingestion pipeline every transport calls: decode → validate → gate → dedup → commit → notify.

Everything a message yields is decided before the single write transaction: accepted events go to the
log, rejected ones to the dead-letter table, both in the same commit (shared with other ingest calls
arriving meanwhile: ``group_commit``). The caller acknowledges only after ``ingest`` returns, i.e. after
that commit.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine

from tradeoff.core.clock import Clock, SystemClock
from tradeoff.core.errors import InvalidInput
from tradeoff.core.events import Event, EventIn
from tradeoff.platform import metrics
from tradeoff.platform.eventlog import (
    StoredKey,
    add_dead_letters,
    append_transaction,
    convert_runs,
    prepare_rows,
)
from tradeoff.platform.ingest.decoders import Decoder, DecoderRegistry, JsonBatchDecoder, JsonEventDecoder
from tradeoff.platform.ingest.gates import BatchScopedGate, BatchScreen, IngressGate, RawBatch, RawScrubber, scope_gates
from tradeoff.platform.ingest.group_commit import GroupCommit
from tradeoff.platform.ingest.message import Candidate, IngestReport, Outcome, RawMessage
from tradeoff.platform.ingest.validation import validate_events

log = logging.getLogger(__name__)

CommitListener = Callable[[int], None]
EventsListener = Callable[[Sequence[Event]], None]


class MessageRejected(InvalidInput):
    """The whole message was unreadable; it is already in the dead-letter table."""


class IngestPipeline:
    def __init__(
        self,
        *,
        engine: Engine,
        decoders: DecoderRegistry,
        gates: Sequence[IngressGate] = (),
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.decoders = decoders
        self.gates = list(gates)
        self.clock = clock or SystemClock()
        self._listeners: list[CommitListener] = []
        self._appends = GroupCommit(engine)
        self._event_listeners: list[EventsListener] = []
        self._screens: tuple[tuple[IngressGate, ...], list[BatchScreen]] = ((), [])

    def on_commit(self, listener: CommitListener) -> None:
        """Call ``listener(max_seq)`` after each commit that appended events (wakes processors)."""
        self._listeners.append(listener)

    def on_events(self, listener: EventsListener) -> None:
        """Call ``listener(events)`` after each commit with the events it appended, in ``seq`` order, as
        stored (the in-process bus keeps them for its processors instead of reading them back)."""
        self._event_listeners.append(listener)

    def add_gate(self, gate: IngressGate) -> None:
        self.gates.append(gate)

    def dead_letter(self, message: RawMessage, *, code: str, reason: str) -> None:
        """Store a message no decoder may see (e.g. addressed to an unknown tenant) with its reason."""
        with append_transaction(self.engine) as conn:
            add_dead_letters(conn, [self._dead_letter(message, message.body, code, reason)])
        metrics.DEAD_LETTERS.labels(message.transport).inc()

    def ingest(self, message: RawMessage, *, decoder: str) -> IngestReport:
        """Ingest one message; raises ``MessageRejected`` (after dead-lettering it) if undecodable."""
        errors: list[InvalidInput] = []
        report = self.ingest_many([message], decoder=decoder, errors=errors)[0]
        if report is None:
            raise MessageRejected(errors[0].field, errors[0].reason)
        return report

    def ingest_many(
        self, messages: Sequence[RawMessage], *, decoder: str, errors: list[InvalidInput] | None = None
    ) -> list[IngestReport | None]:
        """Ingest several messages in one transaction (MQTT batching). ``None`` marks an undecodable one
        (already dead-lettered; its error is appended to ``errors``). Never raises for bad input, so a
        transport can acknowledge every message of the batch."""
        chosen = self.decoders.get(decoder)
        rows: list[dict[str, Any]] = []
        dead: list[dict[str, Any]] = []
        decoded: list[list[Candidate] | None] = []
        for message in messages:
            try:
                decoded.append(chosen.decode(message))
            except InvalidInput as exc:
                dead.append(self._dead_letter(message, message.body, "undecodable", exc.message))
                decoded.append(None)
                if errors is not None:
                    errors.append(exc)
        outcomes = iter(_validate_all(messages, decoded))
        validated = [None if candidates is None else [next(outcomes) for _ in candidates] for candidates in decoded]
        whole = self._screened(chosen, [(m, v) for m, v in zip(messages, validated, strict=True) if v is not None])
        gates = self._scoped(messages, validated, whole)
        plans: list[list[tuple[str, Any]] | None] = []
        for message, candidates, mine in zip(messages, decoded, validated, strict=True):
            if candidates is None or mine is None:
                plans.append(None)
                continue
            cleared = whole if whole or len(messages) == 1 else self._screened(chosen, [(message, mine)])
            plans.append(self._plan(message, candidates, mine, rows, dead, cleared, gates=gates))
        unique = _first_of_each_id(rows)
        prepared = prepare_rows(self.engine.dialect, unique)  # before taking the lock
        inserted = self._appends.append(prepared, dead)
        if inserted:
            top = max(inserted.values())
            for listener in self._listeners:
                listener(top)
            if self._event_listeners:
                committed = _committed_events(unique, inserted)
                for events_listener in self._event_listeners:
                    events_listener(committed)
        claimed: set[StoredKey] = set()  # an id inserted once is 'accepted' once, 'duplicate' after
        reports = [
            None if plan is None else _report(plan, message.tenant_id, inserted, claimed)
            for message, plan in zip(messages, plans, strict=True)
        ]
        _count(messages[0].transport if messages else "http", reports, len(dead))
        return reports

    def _plan(
        self,
        message: RawMessage,
        candidates: list[Candidate],
        outcomes: list[EventIn | InvalidInput],
        rows: list[dict[str, Any]],
        dead: list[dict[str, Any]],
        cleared: frozenset[int] = frozenset(),
        *,
        gates: Sequence[IngressGate] | None = None,
    ) -> list[tuple[str, Any]]:
        """Decide each candidate's fate; appends to ``rows``/``dead``, returns per-item outcomes.
        ``cleared``: gates (by position) that passed every event of this message unchanged already;
        ``gates``: this batch's gates (``scope_gates``), position for position ``self.gates``."""
        plan: list[tuple[str, Any]] = []
        gates = [gate for index, gate in enumerate(self.gates if gates is None else gates) if index not in cleared]
        if not gates:
            valid = [outcome for outcome in outcomes if not isinstance(outcome, InvalidInput)]
            if len(valid) == len(outcomes):  # the common message: all valid, every gate cleared it already
                for event in valid:
                    rows.append(_row(message, event))
                    plan.append(("pending", event.event_id))
                return plan
        for candidate, outcome in zip(candidates, outcomes, strict=True):
            try:
                if isinstance(outcome, InvalidInput):
                    raise outcome
                gated = _gate_through(gates, message.tenant_id, outcome)
            except InvalidInput as exc:
                raw = candidate.raw if candidate.raw is not None else _dump(candidate.data)
                dead.append(self._dead_letter(message, raw, "invalid_event", exc.message))
                plan.append(("rejected", exc))
                continue
            if gated is None:
                plan.append(("dropped", outcome.event_id))
                continue
            rows.append(_row(message, gated))
            plan.append(("pending", gated.event_id))
        return plan

    def _scoped(
        self,
        messages: Sequence[RawMessage],
        validated: list[list[EventIn | InvalidInput] | None],
        whole: frozenset[int],
    ) -> Sequence[IngressGate]:
        """The gates for this batch: a ``BatchScopedGate`` (the privacy gate) reads what its checks need
        for the whole batch at once (the consent of every subject it names), right before the batch is
        checked. Not needed when the screen already cleared every such gate for every message."""
        scoped = [index for index, gate in enumerate(self.gates) if isinstance(gate, BatchScopedGate)]
        if not scoped or all(index in whole for index in scoped):
            return self.gates
        items = [
            (message.tenant_id, event)
            for message, outcomes in zip(messages, validated, strict=True)
            for event in outcomes or ()
            if isinstance(event, EventIn)
        ]
        return scope_gates(self.gates, items)

    def _dead_letter(self, message: RawMessage, raw: bytes, code: str, reason: str) -> dict[str, Any]:
        """A dead-letter row whose raw input and reason every scrubbing gate has cleaned (card data,
        identifiers): items rejected before the gates run are stored here, so they must pass it too."""
        for gate in self.gates:
            if isinstance(gate, RawScrubber):
                raw, reason = gate.scrub_raw(raw), gate.scrub_text(reason)
        return _dead_letter(message, raw, code, reason)

    def _screened(
        self, decoder: Decoder, messages: Sequence[tuple[RawMessage, list[EventIn | InvalidInput]]]
    ) -> frozenset[int]:
        """The leading gates that clear every event of these messages all at once (``BatchScreen``), by
        position. ``ingest_many`` asks first for all its messages together (an MQTT batch holds a thousand
        one-event messages: one screen over their joined bodies instead of a thousand), and message by
        message only if that fails.

        Only for the canonical JSON decoders, whose candidates are the body's JSON values verbatim (plus
        the transport's source and type, passed as ``implied``). Only leading gates: a gate after one that
        rewrites events would have to see the rewritten events, not the body."""
        wrappers = _RAW_JSON_WRAPPERS.get(type(decoder))
        screens = self._leading_screens()
        if wrappers is None or not screens:
            return frozenset()
        events = [outcome for _, outcomes in messages for outcome in outcomes if not isinstance(outcome, InvalidInput)]
        if not events:
            return frozenset()
        # Each envelope and each payload given is one '{' of a body (``flat``: there is no other). Bodies
        # are joined by a newline, which the screens treat as a separator (a superset test stays one).
        objects = wrappers * len(messages) + len(events) + sum(1 for e in events if "payload" in e.model_fields_set)
        text = messages[0][0].body if len(messages) == 1 else b"\n".join(message.body for message, _ in messages)
        implied = {value for message, _ in messages for value in (message.source, message.type_hint) if value}
        batch = RawBatch(text=text, events=events, implied=tuple(sorted(implied)), flat=text.count(b"{") == objects)
        cleared: set[int] = set()
        for index, screen in enumerate(screens):
            if not screen.passes_batch(batch):
                break
            cleared.add(index)
        return frozenset(cleared)

    def _leading_screens(self) -> list[BatchScreen]:
        """The gates from the first on that are ``BatchScreen``s (isinstance on a runtime protocol costs
        microseconds: decided once per set of gates, not per message)."""
        gates = tuple(self.gates)
        if self._screens[0] != gates:
            leading: list[BatchScreen] = []
            for gate in gates:
                if not isinstance(gate, BatchScreen):
                    break
                leading.append(gate)
            self._screens = (gates, leading)
        return self._screens[1]


# Objects a canonical JSON body holds besides its envelopes and their payloads (the batch's wrapper).
_RAW_JSON_WRAPPERS: dict[type, int] = {JsonBatchDecoder: 1, JsonEventDecoder: 0}


def _gate_through(gates: list[IngressGate], tenant_id: str, event: EventIn) -> EventIn | None:
    for gate in gates:
        gated = gate.check(tenant_id=tenant_id, event=event)
        if gated is None:
            return None
        event = gated
    return event


def _validate_all(
    messages: Sequence[RawMessage], decoded: list[list[Candidate] | None]
) -> list[EventIn | InvalidInput]:
    """Validate every candidate of every message in one call (MQTT batches hold one event a message)."""
    items: list[Any] = []
    bound: list[str | None] = []
    for message, candidates in zip(messages, decoded, strict=True):
        if candidates:
            items += [candidate.data for candidate in candidates]
            bound += [message.source] * len(candidates)
    return validate_events(items, bound_sources=bound)


def _first_of_each_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for row in rows:
        key = (row["tenant_id"], row["event_id"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def _report(
    plan: list[tuple[str, Any]], tenant_id: str, inserted: dict[StoredKey, int], claimed: set[StoredKey]
) -> IngestReport:
    outcomes: list[Outcome] = []
    for status, value in plan:
        if status == "rejected":
            outcomes.append(("rejected", None, None, value.field, value.reason))
        elif status == "dropped":
            outcomes.append(("dropped", value, None, None, "not consented"))
        elif (key := (tenant_id, value)) in inserted and key not in claimed:
            claimed.add(key)
            outcomes.append(("accepted", value, inserted[key], None, None))
        else:
            outcomes.append(("duplicate", value, None, None, None))
    return IngestReport(outcomes)


def _committed_events(rows: list[dict[str, Any]], inserted: dict[StoredKey, int]) -> list[Event]:
    """The inserted rows as the log returns them: times in UTC (``datetime.UTC``), in ``seq`` order."""
    out = []
    # rows of one message share their receipt time: converted once per message
    received = convert_runs([row["received_at"] for row in rows], _to_utc)
    for row, received_utc in zip(rows, received, strict=True):
        seq = inserted.get((row["tenant_id"], row["event_id"]))
        if seq is not None:
            out.append(
                Event(seq, row["tenant_id"], row["event_id"], row["type"], row["schema_version"], row["source"],
                      row["occurred_at"].astimezone(UTC), received_utc, row["transport"], row["payload"])
            )  # fmt: skip
    out.sort(key=lambda event: event.seq)
    return out


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _row(message: RawMessage, event: EventIn) -> dict[str, Any]:
    return {
        "tenant_id": message.tenant_id,
        "event_id": event.event_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "source": event.source,
        "occurred_at": event.occurred_at,
        "received_at": message.received_at,
        "transport": message.transport,
        "payload": event.payload,
    }


def _dead_letter(message: RawMessage, raw: bytes, code: str, reason: str) -> dict[str, Any]:
    return {
        "tenant_id": message.tenant_id or None,
        "transport": message.transport,
        "source": message.source,
        "reason_code": code,
        "reason": reason,
        "raw": raw,
        "received_at": message.received_at,
    }


def _dump(data: Any) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:
        return repr(data).encode()


def _count(transport: str, reports: list[IngestReport | None], dead: int) -> None:
    outcomes = Counter(status for report in reports if report is not None for status in report.statuses())
    for outcome in ("accepted", "duplicate", "rejected", "dropped"):
        metrics.EVENTS.labels(transport, outcome).inc(outcomes[outcome])
    metrics.DEAD_LETTERS.labels(transport).inc(dead)
