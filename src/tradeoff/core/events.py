"""The canonical event envelope every transport and decoder produces.

``event_id`` is the producer's idempotency key: the same id for the same tenant is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

EventId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")]
EventType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.\-]{0,63}$")]
SourceId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")]

MAX_PAYLOAD_BYTES = 64 * 1024


class EventIn(BaseModel):
    """What a producer sends: one event, before the platform stamps tenant and receipt time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: EventId
    type: EventType
    occurred_at: AwareDatetime
    source: SourceId | None = None
    schema_version: int = Field(default=1, ge=1, le=1000)
    payload: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Event:
    """An accepted event as stored in the event log (``seq`` is its position in the log)."""

    seq: int
    tenant_id: str
    event_id: str
    type: str
    schema_version: int
    source: str
    occurred_at: datetime
    received_at: datetime
    transport: str
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "tenant_id": self.tenant_id,
            "event_id": self.event_id,
            "type": self.type,
            "schema_version": self.schema_version,
            "source": self.source,
            "occurred_at": self.occurred_at.isoformat(),
            "received_at": self.received_at.isoformat(),
            "transport": self.transport,
            "payload": self.payload,
        }
