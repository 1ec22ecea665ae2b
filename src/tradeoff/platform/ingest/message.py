"""What a transport hands to the pipeline, and what a decoder hands back."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Candidate:
    """One would-be event: ``data`` is validated as an ``EventIn``; ``raw`` is dead-lettered if it fails."""

    data: Any
    raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class ItemResult:
    index: int
    status: Literal["accepted", "duplicate", "rejected", "dropped"]
    event_id: str | None = None
    seq: int | None = None
    field: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status, "event_id": self.event_id}
        if self.seq is not None:
            out["seq"] = self.seq
        if self.status == "rejected":
            out["error"] = {"code": "invalid_event", "field": self.field, "reason": self.reason}
        elif self.status == "dropped":
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class IngestReport:
    items: list[ItemResult]

    def count(self, status: str) -> int:
        return sum(1 for item in self.items if item.status == status)

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.count("accepted"),
            "duplicates": self.count("duplicate"),
            "rejected": self.count("rejected"),
            "dropped": self.count("dropped"),
            "results": [item.to_json() for item in self.items],
        }
