"""The canonical event envelope every transport and decoder produces.

``event_id`` is the producer's idempotency key: the same id for the same tenant is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
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


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        seq: int,
        tenant_id: str,
        event_id: str,
        type: str,
        schema_version: int,
        source: str,
        occurred_at: datetime,
        received_at: datetime,
        transport: str,
        payload: dict[str, Any],
    ) -> None:
        # What the generated frozen __init__ does, through the slots directly: processors read every
        # event of the log through here, and the generic object.__setattr__ per field cost 1 µs an event.
        _SET_SEQ(self, seq)
        _SET_TENANT_ID(self, tenant_id)
        _SET_EVENT_ID(self, event_id)
        _SET_TYPE(self, type)
        _SET_SCHEMA_VERSION(self, schema_version)
        _SET_SOURCE(self, source)
        _SET_OCCURRED_AT(self, occurred_at)
        _SET_RECEIVED_AT(self, received_at)
        _SET_TRANSPORT(self, transport)
        _SET_PAYLOAD(self, payload)

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


(
    _SET_SEQ,
    _SET_TENANT_ID,
    _SET_EVENT_ID,
    _SET_TYPE,
    _SET_SCHEMA_VERSION,
    _SET_SOURCE,
    _SET_OCCURRED_AT,
    _SET_RECEIVED_AT,
    _SET_TRANSPORT,
    _SET_PAYLOAD,
) = (getattr(Event, field.name).__set__ for field in fields(Event))
