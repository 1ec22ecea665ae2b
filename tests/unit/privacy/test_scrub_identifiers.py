"""Identifier detectors and field-name rules: e-mail, phone, MAC, device ids, IP; secrets."""

from __future__ import annotations

from tradeoff.privacy.scrub import (
    DEFAULT_IDENTIFIERS,
    IdentifierKind,
    IdentifierRegistry,
    find_emails,
    find_macs,
    find_phones,
    find_secrets,
    normalize_ip,
    normalize_mac,
    normalize_phone,
    scrub,
    scrub_text,
)


def test_detectors() -> None:
    text = "mail ann.lee+x@shop.example.co.uk or call +44 20 7946 0958; mac AA:BB:CC:00:11:22, aabb.cc00.1122"
    assert find_emails(text) == ["ann.lee+x@shop.example.co.uk"]
    assert find_phones(text) == ["+44 20 7946 0958"]
    assert find_macs(text) == ["AA:BB:CC:00:11:22", "aabb.cc00.1122"]
    assert find_phones("version 1+2 and 2026-11-29") == []
    assert find_macs("12:30:45 is a time") == []
    key = "tk_0123456789ab_" + "x" * 43
    assert find_secrets(f"Bearer {key}") == [key]


def test_normalizers() -> None:
    assert normalize_phone("+1 (555) 010-9999") == "+15550109999"
    assert normalize_phone("0044 20 7946 0958") == "+442079460958"
    assert normalize_phone("020 7946 0958") == "02079460958"
    assert normalize_mac("AA-BB-CC-00-11-22") == "aabbcc001122"
    assert normalize_ip(" 2001:DB8:0:0::1 ") == "2001:db8::1"


def test_field_names() -> None:
    kind = DEFAULT_IDENTIFIERS.kind_for_field
    assert [getattr(kind(k), "name", None) for k in ("buyer_email_address", "customerEmail", "Phone-Number")] == [
        "email",
        "email",
        "phone",
    ]
    assert [getattr(kind(k), "name", None) for k in ("deviceId", "IDFA", "mac_address", "client_ip")] == [
        "device",
        "device",
        "mac",
        "ip",
    ]
    assert kind("machine_id") is None and kind("beacon_mac") is None and kind("mobile") is None


def test_without_keys_identifiers_are_redacted() -> None:
    out = scrub(
        {
            "email": "ann@example.org",
            "contact": {"phone": 4420794609, "mobile": True},
            "devices": {"device_id": ["a", "b"]},
            "text": "reach me at ann@example.org",
            "token": "ta_0123456789ab_" + "y" * 43,
            "beacon_mac": "AA:BB:CC:00:11:22",
        }
    )
    assert out.value == {
        "email": "[EMAIL REMOVED]",
        "contact": {"phone": "[PHONE REMOVED]", "mobile": True},
        "devices": {"device_id": ["[DEVICE REMOVED]", "[DEVICE REMOVED]"]},
        "text": "reach me at [EMAIL REMOVED]",
        "token": "[SECRET REMOVED]",
        "beacon_mac": "AA:BB:CC:00:11:22",  # store infrastructure is named, not tokenized
    }


def test_registry_is_extensible() -> None:
    registry = IdentifierRegistry()
    registry.register(IdentifierKind("badge", str.upper), fields=("badge_no",), suffixes=("badge",))
    assert registry.kind_for_field("staffBadge") is registry.kind("badge")
    assert scrub({"badge_no": "x1"}, identifiers=registry).value == {"badge_no": "[BADGE REMOVED]"}
    assert scrub_text("short") == "short"
