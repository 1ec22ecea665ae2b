"""Segment models and the resolver's first gate, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from pydantic import ValidationError
from sqlalchemy import Connection

from tradeoff.core.clock import FixedClock
from tradeoff.offers.segments.service import CatalogueIn, ReleasedSegments, SegmentIn
from tradeoff.offers.segments.store import offer_preferences, offer_segments
from tradeoff.platform.db.columns import PrivacyClass
from tradeoff.privacy.vault.service import Vault


def test_segment_keys_are_short_lowercase_words() -> None:
    assert SegmentIn(key="gluten-free", label="Gluten free").key == "gluten-free"
    for bad in ("", "Organic", "-x", "a b", "x" * 33):
        with pytest.raises(ValidationError):
            SegmentIn(key=bad, label="x")
    with pytest.raises(ValidationError, match="appears twice"):
        CatalogueIn.model_validate({"segments": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]})
    with pytest.raises(ValidationError):
        CatalogueIn.model_validate({"segments": [{"key": f"s{i}", "label": "S"} for i in range(101)]})


def test_the_choice_is_personal_and_encrypted_the_catalogue_operational() -> None:
    column = offer_preferences.c.segments
    assert column.info["privacy"] is PrivacyClass.PERSONAL and column.info["encrypted"]
    assert offer_preferences.c.subject_id.info["subject_key"]
    assert all(c.info["privacy"] is PrivacyClass.OPERATIONAL for c in offer_segments.columns)


class _NoSubject:
    def subject_of(self, conn: Connection, tenant_id: str, pseudonym: str) -> str | None:
        return None


def test_a_pseudonym_that_does_not_resolve_is_in_no_segment() -> None:
    """Daily pseudonyms (tier 1) and unknown ones: nothing is read at all."""
    resolver = ReleasedSegments(
        vault=cast(Vault, object()), subjects=_NoSubject(), clock=FixedClock(datetime(2026, 11, 29, tzinfo=UTC))
    )
    conn = cast(Any, None)  # never touched
    assert resolver(conn, "t1", "pd_aaaaaaaaaaaaaaaaaaaaaaaaaa") == frozenset()
