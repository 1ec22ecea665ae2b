"""Registering shoppers, authenticating their app tokens, closing them.

A subject id is 128 random bits (hex), unrelated to anything about the person or the registration time.
App tokens are ``ta_<prefix>_<secret>`` with a 256-bit secret; only the prefix and a SHA-256 verifier are
stored (the secret is random, so a plain hash cannot be brute-forced).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from tradeoff.core.errors import NotFound, TradeoffError, Unauthenticated
from tradeoff.privacy.subjects.store import subjects

APP_TOKEN_SCHEME = "ta"


class SubjectErased(TradeoffError):
    """The subject was erased (a subject is closed only by erasure): nothing is held about it any more.
    HTTP 410 with code ``erased``; ``details.erased_at`` says when."""

    code = "erased"
    status = 410

    def __init__(self, erased_at: datetime | None) -> None:
        super().__init__(
            "this subject was erased: nothing is held about it",
            details={"erased_at": erased_at.isoformat() if erased_at is not None else None},
        )
        self.erased_at = erased_at


@dataclass(frozen=True, slots=True)
class Subject:
    subject_id: str
    tenant_id: str
    created_at: datetime
    closed_at: datetime | None

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class RegisteredSubject:
    subject: Subject
    app_token: str  # shown once; never stored


@dataclass(frozen=True, slots=True)
class SubjectPrincipal:
    """A shopper's app, authenticated by its app token."""

    tenant_id: str
    subject_id: str


def _verifier(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"{APP_TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


def register_subject(conn: Connection, *, tenant_id: str, at: datetime) -> RegisteredSubject:
    subject = Subject(subject_id=secrets.token_hex(16), tenant_id=tenant_id, created_at=at, closed_at=None)
    prefix, token = _new_token()
    conn.execute(
        insert(subjects).values(
            subject_id=subject.subject_id,
            tenant_id=tenant_id,
            token_prefix=prefix,
            token_hash=_verifier(token),
            created_at=at,
            closed_at=None,
        )
    )
    return RegisteredSubject(subject=subject, app_token=token)


def rotate_app_token(conn: Connection, *, tenant_id: str, subject_id: str) -> str:
    """A new app token; the old one stops working at once."""
    get_subject(conn, tenant_id=tenant_id, subject_id=subject_id, require_open=True)
    prefix, token = _new_token()
    conn.execute(
        update(subjects)
        .where(subjects.c.tenant_id == tenant_id, subjects.c.subject_id == subject_id)
        .values(token_prefix=prefix, token_hash=_verifier(token))
    )
    return token


def authenticate_app_token(conn: Connection, token: str) -> SubjectPrincipal:
    """Across tenants (the token says which): run on the owner connection, like API-key lookups."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != APP_TOKEN_SCHEME:
        raise Unauthenticated("this endpoint needs the shopper's app token (Authorization: Bearer ta_…)")
    row = conn.execute(
        select(subjects.c.subject_id, subjects.c.tenant_id, subjects.c.token_hash, subjects.c.closed_at).where(
            subjects.c.token_prefix == parts[1]
        )
    ).first()
    if row is None or not hmac.compare_digest(row.token_hash, _verifier(token)):
        raise Unauthenticated("unknown app token")
    if row.closed_at is not None:
        raise SubjectErased(row.closed_at)
    return SubjectPrincipal(tenant_id=row.tenant_id, subject_id=row.subject_id)


def get_subject(conn: Connection, *, tenant_id: str, subject_id: str, require_open: bool = False) -> Subject:
    row = conn.execute(
        select(subjects.c.subject_id, subjects.c.tenant_id, subjects.c.created_at, subjects.c.closed_at).where(
            subjects.c.tenant_id == tenant_id, subjects.c.subject_id == subject_id
        )
    ).first()
    if row is None or (require_open and row.closed_at is not None):
        raise NotFound("no such subject in this tenant")
    return Subject(**row._mapping)


def close_subject(conn: Connection, *, tenant_id: str, subject_id: str, at: datetime) -> None:
    """Close a subject (erasure calls this first): from the next event on, nothing about it is stored.
    Callers notify consent caches after commit (``tradeoff.privacy.consent.notify_consent_changed``)."""
    get_subject(conn, tenant_id=tenant_id, subject_id=subject_id)
    conn.execute(
        update(subjects)
        .where(subjects.c.tenant_id == tenant_id, subjects.c.subject_id == subject_id, subjects.c.closed_at.is_(None))
        .values(closed_at=at)
    )
