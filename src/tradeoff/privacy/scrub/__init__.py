"""Scrubbing: card data (PAN, track, CVV/PIN) and personal identifiers out of anything before it is stored.

``scrub`` walks a JSON value; ``scrub_text`` does one string; ``scrub_bytes`` does raw input kept for
diagnosis; ``scan`` reports what a value holds without changing it. The detectors are reusable on their
own (``find_pans``, ``find_emails``, ``find_phones``, ``find_macs``, ``find_secrets``).
"""

from tradeoff.privacy.scrub.cards import (
    IIN_RANGES,
    PAN_MARKER,
    SAD_MARKER,
    TRACK_MARKER,
    find_pans,
    find_stored_pans,
    is_pan,
    is_sad_field,
    issuer,
    luhn_valid,
)
from tradeoff.privacy.scrub.detectors import (
    SECRET_MARKER,
    find_emails,
    find_macs,
    find_phones,
    find_secrets,
    normalize_email,
    normalize_ip,
    normalize_mac,
    normalize_phone,
)
from tradeoff.privacy.scrub.identifiers import (
    DEFAULT_IDENTIFIERS,
    IdentifierKind,
    IdentifierRegistry,
    default_identifiers,
)
from tradeoff.privacy.scrub.walk import (
    MAX_DEPTH,
    REDACT,
    Finding,
    Redactor,
    Scrubbed,
    Tokenizer,
    TooDeep,
    fields_need_scrub,
    json_keys,
    raw_json_needs_scrub,
    scan,
    scan_text,
    scrub,
    scrub_bytes,
    scrub_text,
)

__all__ = [
    "DEFAULT_IDENTIFIERS",
    "IIN_RANGES",
    "MAX_DEPTH",
    "PAN_MARKER",
    "REDACT",
    "SAD_MARKER",
    "SECRET_MARKER",
    "TRACK_MARKER",
    "Finding",
    "IdentifierKind",
    "IdentifierRegistry",
    "Redactor",
    "Scrubbed",
    "TooDeep",
    "Tokenizer",
    "default_identifiers",
    "fields_need_scrub",
    "find_emails",
    "find_macs",
    "find_pans",
    "find_stored_pans",
    "find_phones",
    "find_secrets",
    "is_pan",
    "is_sad_field",
    "issuer",
    "json_keys",
    "luhn_valid",
    "normalize_email",
    "normalize_ip",
    "normalize_mac",
    "normalize_phone",
    "raw_json_needs_scrub",
    "scan",
    "scan_text",
    "scrub",
    "scrub_bytes",
    "scrub_text",
]
