"""The portal's pure parts: sealed values, link ids, the export summary and the consent view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradeoff.privacy.audit.chain import check_details
from tradeoff.privacy.consent import RENEWAL_PERIOD, Basis, ConsentRecord, ConsentState, Purpose, Source
from tradeoff.web.portal_data import summarize
from tradeoff.web.portal_link import LINK_TTL, issue_link, link_id
from tradeoff.web.portal_tokens import LINK_PURPOSE, SESSION_PURPOSE, Sealer
from tradeoff.web.portal_view import TIERS, consent_view

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_a_sealed_value_opens_only_before_it_expires() -> None:
    sealer = Sealer("server secret", LINK_PURPOSE)
    token = sealer.seal({"t": "tenant", "s": "subject"}, now=NOW)
    assert "subject" not in token and "tenant" not in token
    assert sealer.unseal(token, max_age=LINK_TTL, now=NOW + LINK_TTL - timedelta(seconds=1)) == {
        "t": "tenant",
        "s": "subject",
    }
    assert sealer.unseal(token, max_age=LINK_TTL, now=NOW + LINK_TTL + timedelta(seconds=2)) is None
    assert sealer.unseal(token, max_age=LINK_TTL, now=NOW - timedelta(minutes=5)) is None  # sealed "in the future"


def test_a_sealed_value_is_bound_to_its_secret_and_purpose() -> None:
    token = Sealer("server secret", LINK_PURPOSE).seal({"a": 1}, now=NOW)
    assert Sealer("other secret", LINK_PURPOSE).unseal(token, max_age=LINK_TTL, now=NOW) is None
    assert Sealer("server secret", SESSION_PURPOSE).unseal(token, max_age=LINK_TTL, now=NOW) is None
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    assert Sealer("server secret", LINK_PURPOSE).unseal(flipped, max_age=LINK_TTL, now=NOW) is None


@pytest.mark.parametrize("value", [None, "", "é" * 10, "x" * 3000])
def test_garbage_never_opens(value: str | None) -> None:
    assert Sealer("s", LINK_PURPOSE).unseal(value, max_age=LINK_TTL, now=NOW) is None


def test_a_sealer_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        Sealer("", LINK_PURPOSE)


def test_links_are_unique_and_their_audit_ids_are_safe_for_the_chain() -> None:
    sealer = Sealer("s", LINK_PURPOSE)
    first = issue_link(sealer, tenant_id="t", subject_id="s", now=NOW)
    second = issue_link(sealer, tenant_id="t", subject_id="s", now=NOW)
    assert first.url != second.url and first.expires_at == NOW + LINK_TTL
    for nonce in ("1234567890123456789", "a", "4111111111111111"):
        ident = link_id(nonce)
        assert ident.startswith("l") and len(ident) == 33
        check_details({"via": "link", "link": ident})  # never mistaken for a card number


def test_summarize_counts_what_is_held_and_leaves_out_the_audit_trail() -> None:
    document = {
        "format": "tradeoff-dsr/1",
        "exported_at": NOW.isoformat(),
        "tables": {"subjects": [{"subject_id": "x"}], "consent_records": [{"id": 1}, {"id": 2}], "vault_notes": []},
        "events": [{"seq": n} for n in range(60)],
        "audit": [{"seq": 1}],
    }
    held = summarize(document)
    assert [(item.name, item.count) for item in held.items] == [("consent_records", 2), ("subjects", 1), ("events", 60)]
    assert held.exported_at == NOW and not held.empty and held.items[0].rows == ()
    with_rows = summarize(document, rows=True)
    assert len(with_rows.items[-1].rows) == 50 and with_rows.items[-1].more == 10
    assert summarize({"tables": {"subjects": []}, "events": []}).empty


def record(
    purpose: Purpose, granted: bool, *, basis: Basis = Basis.EXPLICIT, ago: timedelta = timedelta(0)
) -> ConsentRecord:
    at = NOW - ago
    return ConsentRecord(
        id=1,
        tenant_id="t",
        subject_id="s",
        purpose=purpose,
        granted=granted,
        requested=granted if basis is Basis.EXPLICIT else None,
        gpc=basis is not Basis.EXPLICIT,
        basis=basis,
        policy_version="v1",
        source=Source.APP,
        recorded_at=at,
        renew_by=at + RENEWAL_PERIOD if granted else None,
    )


def test_the_consent_view_shows_tier_renewal_and_gpc() -> None:
    latest = {
        Purpose.ANALYTICS: record(Purpose.ANALYTICS, True, ago=RENEWAL_PERIOD - timedelta(days=10)),
        Purpose.PERSONALIZATION: record(Purpose.PERSONALIZATION, True),
        Purpose.PURCHASE_LINKING: record(Purpose.PURCHASE_LINKING, False, basis=Basis.GPC),
    }
    view = consent_view(ConsentState("t", "s", True, latest), NOW)
    assert view["tier"] == 2 and view["tier_title"] == TIERS[2].title
    assert view["renewal_due"] and view["gpc_applied"]
    linking = next(p for p in view["purposes"] if p["name"] == "purchase_linking")
    assert not linking["granted"] and linking["gpc"] and linking["renew_by"] is None
    assert consent_view(ConsentState("t", "s", True, {}), NOW)["tier"] == 0
