"""Subjects: shoppers known by random ids, per-tenant keyed pseudonyms and identifier tokens."""

from tradeoff.privacy.subjects.pseudonyms import DAILY_PREFIX, STABLE_PREFIX, BoundTokenizer, Pseudonymizer
from tradeoff.privacy.subjects.resolve import StablePseudonymIndex
from tradeoff.privacy.subjects.service import (
    APP_TOKEN_SCHEME,
    RegisteredSubject,
    Subject,
    SubjectErased,
    SubjectPrincipal,
    authenticate_app_token,
    close_subject,
    get_subject,
    register_subject,
    rotate_app_token,
)

__all__ = [
    "APP_TOKEN_SCHEME",
    "DAILY_PREFIX",
    "STABLE_PREFIX",
    "BoundTokenizer",
    "Pseudonymizer",
    "RegisteredSubject",
    "StablePseudonymIndex",
    "Subject",
    "SubjectErased",
    "SubjectPrincipal",
    "authenticate_app_token",
    "close_subject",
    "get_subject",
    "register_subject",
    "rotate_app_token",
]
