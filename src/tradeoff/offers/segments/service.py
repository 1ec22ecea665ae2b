"""Segment use cases on a connection the caller owns: the tenant's catalogue, the check of a campaign's
audience against it, a shopper's released preferences and the resolver the offers processor asks.

The consumer chooses what to give: a shopper is in a segment only because they picked it themselves from
the store's catalogue, only while their consent includes personalization (tier 2+), and only for
segments the store still offers. The choice is stored encrypted under the shopper's own data key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, bindparam, delete, insert, select

from tradeoff.core.clock import Clock
from tradeoff.core.errors import Forbidden, InvalidInput
from tradeoff.offers.campaigns import CampaignSpec
from tradeoff.offers.segments.store import offer_preferences, offer_segments
from tradeoff.privacy.consent.ledger import consent_state
from tradeoff.privacy.consent.model import Purpose
from tradeoff.privacy.vault.errors import DecryptionError
from tradeoff.privacy.vault.service import Vault

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
MAX_SEGMENTS = 100
NOT_CONSENTED = "personalization_not_granted"
_TABLE = str(offer_preferences.name)
_COLUMN = "segments"


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN, description="lowercase, e.g. organic (used in campaign audiences)")
    label: str = Field(min_length=1, max_length=80, description="what the shopper sees, e.g. Organic food")
    description: str | None = Field(default=None, max_length=300)


class CatalogueIn(BaseModel):
    """The whole catalogue (replaces the stored one); order is the order shoppers see."""

    model_config = ConfigDict(extra="forbid")

    segments: list[SegmentIn] = Field(max_length=MAX_SEGMENTS)

    @field_validator("segments")
    @classmethod
    def _unique(cls, segments: list[SegmentIn]) -> list[SegmentIn]:
        seen: set[str] = set()
        for segment in segments:
            if segment.key in seen:
                raise ValueError(f"segment key {segment.key!r} appears twice")
            seen.add(segment.key)
        return segments


@dataclass(frozen=True, slots=True)
class Segment:
    key: str
    label: str
    description: str | None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "description": self.description}


# -- the catalogue ---------------------------------------------------------------------------------------

_S = offer_segments.c
_CATALOGUE = select(_S.key, _S.label, _S.description).where(_S.tenant_id == bindparam("tenant_id"))
_KEYS = select(_S.key).where(_S.tenant_id == bindparam("tenant_id"))


def catalogue(conn: Connection, *, tenant_id: str) -> list[Segment]:
    rows = conn.execute(_CATALOGUE.order_by(_S.position, _S.key), {"tenant_id": tenant_id})
    return [Segment(row.key, row.label, row.description) for row in rows]


def catalogue_keys(conn: Connection, *, tenant_id: str) -> frozenset[str]:
    return frozenset(conn.execute(_KEYS, {"tenant_id": tenant_id}).scalars())


def replace_catalogue(
    conn: Connection, *, tenant_id: str, segments: Sequence[SegmentIn], now: datetime
) -> list[Segment]:
    """Replace the tenant's catalogue. A segment taken out stops counting at once: shoppers who chose it
    are no longer in it (``segments_for_subject`` intersects with the catalogue) and campaigns naming it
    reach nobody through it; the shoppers' stored choice is left to them (their data, in their export)."""
    conn.execute(delete(offer_segments).where(_S.tenant_id == tenant_id))
    if segments:
        conn.execute(
            insert(offer_segments),
            [
                {"tenant_id": tenant_id, "key": s.key, "label": s.label, "description": s.description,
                 "position": index, "updated_at": now}
                for index, s in enumerate(segments)
            ],
        )  # fmt: skip
    return catalogue(conn, tenant_id=tenant_id)


def check_audience(conn: Connection, *, tenant_id: str, spec: CampaignSpec, already: Iterable[str] = ()) -> None:
    """``InvalidInput`` (422, field ``audience.segments``) when the audience names a segment the tenant's
    catalogue does not have: such a campaign could never reach anyone through it. ``already``: the
    segments the stored campaign names (an update), which may stay even if the catalogue dropped them —
    so a campaign can still be paused or edited; they simply reach nobody."""
    if not spec.audience.segments:
        return
    known = catalogue_keys(conn, tenant_id=tenant_id) | frozenset(already)
    unknown = [key for key in spec.audience.segments if key not in known]
    if unknown:
        offered = ", ".join(sorted(known)) or "none yet (PUT /v1/offers/segments)"
        raise InvalidInput(
            "audience.segments", f"{', '.join(map(repr, unknown))} not in the segment catalogue (offered: {offered})"
        )


# -- a shopper's released preferences -----------------------------------------------------------------------

_P = offer_preferences.c
_STORED = select(_P.segments).where(_P.tenant_id == bindparam("tenant_id"), _P.subject_id == bindparam("subject_id"))


def personalization_allowed(conn: Connection, *, tenant_id: str, subject_id: str, at: datetime) -> bool:
    """Read now, on ``conn``: a withdrawal (or a lapse, or GPC) committed before counts at once."""
    state = consent_state(conn, tenant_id=tenant_id, subject_id=subject_id)
    return state.allows(Purpose.PERSONALIZATION, at)


def _seal(conn: Connection, vault: Vault, tenant_id: str, subject_id: str, keys: Iterable[str]) -> bytes:
    plain = orjson.dumps(sorted(keys))
    return vault.encrypt(tenant_id, subject_id, plain, table=_TABLE, column=_COLUMN, row_id=subject_id, conn=conn)


def _open(conn: Connection, vault: Vault, tenant_id: str, subject_id: str, sealed: bytes) -> frozenset[str]:
    """The stored keys; nothing when the ciphertext no longer decrypts (the subject's key was destroyed)."""
    try:
        plain = vault.decrypt(
            tenant_id, subject_id, bytes(sealed), table=_TABLE, column=_COLUMN, row_id=subject_id, conn=conn
        )
    except DecryptionError:
        return frozenset()
    keys = orjson.loads(plain)
    return frozenset(str(key) for key in keys) if isinstance(keys, list) else frozenset()


def stored_preferences(conn: Connection, *, vault: Vault, tenant_id: str, subject_id: str) -> frozenset[str]:
    """Everything the shopper chose (also segments the store has since taken out of its catalogue)."""
    sealed = conn.execute(_STORED, {"tenant_id": tenant_id, "subject_id": subject_id}).scalar()
    return frozenset() if sealed is None else _open(conn, vault, tenant_id, subject_id, sealed)


def release_preferences(
    conn: Connection, *, vault: Vault, tenant_id: str, subject_id: str, segments: Sequence[str], at: datetime
) -> frozenset[str]:
    """Store the shopper's choice (replacing the previous one; an empty choice deletes it). ``Forbidden``
    (403, reason ``personalization_not_granted``) without personalization consent — nothing is stored then;
    ``InvalidInput`` (422, ``segments[i]``) for a key the catalogue does not have."""
    if not personalization_allowed(conn, tenant_id=tenant_id, subject_id=subject_id, at=at):
        raise Forbidden(
            "segments are released only with personalization consent (tier 2 or higher): grant it first",
            details={"reason": NOT_CONSENTED},
        )
    known = catalogue_keys(conn, tenant_id=tenant_id)
    for index, key in enumerate(segments):
        if key not in known:
            raise InvalidInput(f"segments[{index}]", f"{key!r} is not in this store's segment catalogue")
    chosen = frozenset(segments)
    forget_preferences(conn, tenant_id=tenant_id, subject_id=subject_id)
    if chosen:
        sealed = _seal(conn, vault, tenant_id, subject_id, chosen)
        conn.execute(
            insert(offer_preferences).values(subject_id=subject_id, tenant_id=tenant_id, segments=sealed, updated_at=at)
        )
    return chosen


def forget_preferences(conn: Connection, *, tenant_id: str, subject_id: str) -> bool:
    """Delete the shopper's stored choice (always allowed, whatever the consent); whether there was one."""
    statement = delete(offer_preferences).where(_P.tenant_id == tenant_id, _P.subject_id == subject_id)
    return bool(conn.execute(statement).rowcount)


def segments_for_subject(
    conn: Connection, *, vault: Vault, tenant_id: str, subject_id: str, at: datetime
) -> frozenset[str]:
    """The segments the shopper is in for targeting: their choice, only while their consent allows
    personalization at ``at``, and only the segments still in the tenant's catalogue."""
    sealed = conn.execute(_STORED, {"tenant_id": tenant_id, "subject_id": subject_id}).scalar()
    if sealed is None or not personalization_allowed(conn, tenant_id=tenant_id, subject_id=subject_id, at=at):
        return frozenset()
    chosen = _open(conn, vault, tenant_id, subject_id, sealed)
    return chosen & catalogue_keys(conn, tenant_id=tenant_id) if chosen else chosen


class SubjectLookup(Protocol):
    """Stable pseudonym → subject id (``offers.processor.PseudonymResolver``)."""

    def subject_of(self, conn: Connection, tenant_id: str, pseudonym: str) -> str | None: ...


class ReleasedSegments:
    """The offers processor's ``segments`` (``Segments``: ``(conn, tenant_id, pseudonym) → released
    segments``): the pseudonym is resolved to its subject through the privacy core's index (a daily
    pseudonym never resolves), then ``segments_for_subject`` on the processor's transaction."""

    def __init__(self, *, vault: Vault, subjects: SubjectLookup, clock: Clock) -> None:
        self.vault = vault
        self.subjects = subjects
        self.clock = clock

    def __call__(self, conn: Connection, tenant_id: str, pseudonym: str) -> frozenset[str]:
        subject_id = self.subjects.subject_of(conn, tenant_id, pseudonym)
        if subject_id is None:
            return frozenset()
        return segments_for_subject(
            conn, vault=self.vault, tenant_id=tenant_id, subject_id=subject_id, at=self.clock.now()
        )
