"""Webhook signatures: the Standard Webhooks test vector, tampering, replay window, rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradeoff.offers.delivery.signing import SignatureError, WebhookSecret, sign_headers, verify

# The published Standard Webhooks example (standard-webhooks spec / svix libraries).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_AT = datetime.fromtimestamp(1614265330, UTC)
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SECRET = WebhookSecret(b"s" * 32)


def test_the_standard_webhooks_vector() -> None:
    headers = sign_headers([WebhookSecret.parse(VECTOR_SECRET)], msg_id=VECTOR_ID, body=VECTOR_BODY, at=VECTOR_AT)
    expected = {"webhook-id": VECTOR_ID, "webhook-timestamp": "1614265330", "webhook-signature": VECTOR_SIGNATURE}
    assert headers == expected
    assert verify(VECTOR_SECRET, headers=headers, body=VECTOR_BODY, now=VECTOR_AT) == VECTOR_ID


def test_a_signed_request_verifies_with_any_header_case() -> None:
    now = datetime(2026, 11, 29, 10, tzinfo=UTC)
    headers = sign_headers([SECRET], msg_id="msg_1", body=b"{}", at=now)
    upper = {name.upper(): value for name, value in headers.items()}
    assert verify(SECRET, headers=upper, body=b"{}", now=now + timedelta(seconds=30)) == "msg_1"
    assert verify(SECRET.reveal(), headers=headers, body=b"{}", now=now) == "msg_1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body": b'{"x":1}'}, "no signature matches"),
        ({"secret": WebhookSecret(b"t" * 32)}, "no signature matches"),
        ({"id": "msg_2"}, "no signature matches"),
        ({"now_shift": timedelta(minutes=6)}, "tolerance"),
        ({"now_shift": -timedelta(minutes=6)}, "tolerance"),
    ],
)
def test_tampered_stale_or_foreign_requests_are_refused(change: dict[str, object], message: str) -> None:
    now = datetime(2026, 11, 29, 10, tzinfo=UTC)
    headers = sign_headers([SECRET], msg_id="msg_1", body=b"{}", at=now)
    if "id" in change:
        headers["webhook-id"] = str(change["id"])
    secret = change.get("secret", SECRET)
    body = change.get("body", b"{}")
    shift = change.get("now_shift", timedelta(0))
    assert isinstance(secret, WebhookSecret) and isinstance(body, bytes) and isinstance(shift, timedelta)
    with pytest.raises(SignatureError, match=message):
        verify(secret, headers=headers, body=body, now=now + shift)


def test_missing_or_malformed_headers() -> None:
    now = datetime(2026, 11, 29, 10, tzinfo=UTC)
    with pytest.raises(SignatureError, match="missing"):
        verify(SECRET, headers={}, body=b"", now=now)
    headers = sign_headers([SECRET], msg_id="msg_1", body=b"", at=now) | {"webhook-timestamp": "soon"}
    with pytest.raises(SignatureError, match="integer"):
        verify(SECRET, headers=headers, body=b"", now=now)


def test_during_a_rotation_both_secrets_verify() -> None:
    now = datetime(2026, 11, 29, 10, tzinfo=UTC)
    new, old = WebhookSecret(b"n" * 32), WebhookSecret(b"o" * 32)
    headers = sign_headers([new, old], msg_id="msg_1", body=b"{}", at=now)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify(new, headers=headers, body=b"{}", now=now) == verify(old, headers=headers, body=b"{}", now=now)


def test_secrets_are_never_printed_and_must_be_long() -> None:
    assert "s" * 8 not in repr(SECRET) and "s" * 8 not in str(SECRET)
    assert SECRET.reveal().startswith("whsec_")
    assert WebhookSecret.parse(SECRET.reveal()) == SECRET
    with pytest.raises(ValueError):
        WebhookSecret(b"short")
    with pytest.raises(ValueError, match="base64"):
        WebhookSecret.parse("whsec_***")
    with pytest.raises(ValueError):
        sign_headers([SECRET], msg_id="a.b", body=b"", at=datetime.now(UTC))
