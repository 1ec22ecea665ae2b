"""What a transport hands to the pipeline, and what a decoder hands back."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

Transport = Literal["http", "mqtt", "file", "bus"]


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message exactly as it arrived, with what the transport already knows about it."""

    body: bytes
    transport: Transport
    tenant_id: str
    received_at: datetime
    source: str | None = None  # the device the transport authenticated (device key, MQTT topic)
    type_hint: str | None = None  # the event type the transport implies (MQTT topic)
    content_type: str | None = None


@dataclass(frozen=True, slots=True, init=False)
class Candidate:
    """One would-be event: ``data`` is validated as an ``EventIn``; ``raw`` is dead-lettered if it fails."""

    data: Any
    raw: bytes | None = None

    def __init__(self, data: Any, raw: bytes | None = None) -> None:
        # The generated frozen __init__ through the slots directly (one candidate per event)
        _SET_DATA(self, data)
        _SET_RAW(self, raw)


_SET_DATA, _SET_RAW = (getattr(Candidate, name.name).__set__ for name in fields(Candidate))


Status = Literal["accepted", "duplicate", "rejected", "dropped"]


@dataclass(frozen=True, slots=True, init=False)
class ItemResult:
    index: int
    status: Status
    event_id: str | None = None
    seq: int | None = None
    field: str | None = None
    reason: str | None = None

    def __init__(
        self,
        index: int,
        status: Status,
        event_id: str | None = None,
        seq: int | None = None,
        field: str | None = None,
        reason: str | None = None,
    ) -> None:
        # The generated frozen __init__ through the slots directly (one result per event of every batch)
        _SET_INDEX(self, index)
        _SET_STATUS(self, status)
        _SET_EVENT_ID(self, event_id)
        _SET_SEQ(self, seq)
        _SET_FIELD(self, field)
        _SET_REASON(self, reason)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status, "event_id": self.event_id}
        if self.seq is not None:
            out["seq"] = self.seq
        if self.status == "rejected":
            out["error"] = {"code": "invalid_event", "field": self.field, "reason": self.reason}
        elif self.status == "dropped":
            out["reason"] = self.reason
        return out


# One item's result as the pipeline records it: (status, event_id, seq, field, reason).
Outcome = tuple[Status, str | None, int | None, str | None, str | None]


class IngestReport:
    """The per-item results of one message, in item order. Held as plain tuples and made ``ItemResult``s
    only when asked for: a batch has a thousand items, and an object each cost more than the rest of the
    report (the HTTP response is written from the tuples; MQTT only counts them)."""

    __slots__ = ("_items", "_outcomes")

    def __init__(self, outcomes: list[Outcome]) -> None:
        self._outcomes = outcomes
        self._items: list[ItemResult] | None = None

    @property
    def items(self) -> list[ItemResult]:
        if self._items is None:
            self._items = [ItemResult(index, *outcome) for index, outcome in enumerate(self._outcomes)]
        return self._items

    def statuses(self) -> list[Status]:
        return [outcome[0] for outcome in self._outcomes]

    def count(self, status: str) -> int:
        return sum(1 for outcome in self._outcomes if outcome[0] == status)

    def to_json(self) -> dict[str, Any]:
        counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "dropped": 0}
        results: list[dict[str, Any]] = []
        for index, (status, event_id, seq, field, reason) in enumerate(self._outcomes):
            counts[status] += 1
            if status == "accepted":
                results.append({"index": index, "status": status, "event_id": event_id, "seq": seq})
            else:
                results.append(ItemResult(index, status, event_id, seq, field, reason).to_json())
        return {
            "accepted": counts["accepted"],
            "duplicates": counts["duplicate"],
            "rejected": counts["rejected"],
            "dropped": counts["dropped"],
            "results": results,
        }


(_SET_INDEX, _SET_STATUS, _SET_EVENT_ID, _SET_SEQ, _SET_FIELD, _SET_REASON) = (
    getattr(ItemResult, name.name).__set__ for name in fields(ItemResult)
)
