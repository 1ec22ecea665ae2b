"""Scrub any JSON value: card data removed, identifiers tokenized (or redacted), at any depth, in keys and
values, inside free text. Pure: the keyed tokenizer is passed in; without one identifiers are redacted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import orjson

from tradeoff.privacy.scrub.cards import (
    PAN_MARKER,
    SAD_MARKER,
    TRACK_MARKER,
    is_pan,
    is_sad_field,
    is_sad_name,
    scrub_card_text,
)
from tradeoff.privacy.scrub.detectors import (
    EMAIL,
    MAC,
    PHONE,
    SECRET,
    SECRET_MARKER,
    find_emails,
    find_phones,
    find_secrets,
)
from tradeoff.privacy.scrub.identifiers import (
    DEFAULT_IDENTIFIERS,
    IdentifierKind,
    IdentifierRegistry,
)
from tradeoff.privacy.scrub.identifiers import EMAIL as EMAIL_KIND
from tradeoff.privacy.scrub.identifiers import PHONE as PHONE_KIND

MAX_DEPTH = 64  # deeper than any real event; bounds the recursion a hostile payload could ask for
# A string matching none of these holds nothing to scrub: twelve digits (PAN, track data), a named code,
# an e-mail, an international phone number, one of our secrets. One C-level search spares the rest.
_SUSPICIOUS = re.compile(r"\d(?:[\s\-]{0,3}\d){11}|@|\+\d|t[ka]_[0-9a-f]|(?i:cvv|cvc|cvn|cav2|cid|csc|security|pin)")


# Quick checks over a payload's JSON text (see ``needs_scrub``).
_DIGIT_RUN = re.compile(r"\d[\d\s\-]{11,}")  # twelve digits might hide in it (a superset of a PAN's shape)
_EXPONENT = re.compile(r"\d[eE]\+?1\d")  # orjson writes 1e16 short: an integral float a PAN might be
_SAD_WORDS = ("cvv", "cvc", "cvn", "cav2", "cid", "csc", "security", "pin")
# Every string of a JSON text without backslash escapes, in order (so quotes pair up): a key's content
# is captured, any other string yields "". A lone ``"([^"]*)":`` would start at a closing quote and read
# past a key that begins with a colon (``{"a":"b",":phone":…}`` lost ``:phone``).
_KEY = re.compile(r'"([^"]*)"(?=\s*:)|"[^"]*"')
_RAW_KEY = re.compile(rb'"([^"]*)"(?=\s*:)|"[^"]*"')


@lru_cache(maxsize=8192)
def _plain_key(key: str) -> bool:
    return _SUSPICIOUS.search(key) is None


def needs_scrub(value: Any, identifiers: IdentifierRegistry = DEFAULT_IDENTIFIERS) -> bool:
    """False only when ``scrub`` would change nothing, decided on the value's JSON text with C-speed
    operations, so the common event skips the walk: no digit run of twelve, no e-mail, phone, secret or
    named code, no field name that is card data or an identifier. A superset test: True may still change
    nothing. Text with escapes (``\\``) always takes the walk: its keys are not read here."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        return True
    if "\\" in text or "@" in text or "+" in text or "tk_" in text or "ta_" in text:
        return True
    lowered = text.lower()
    if any(word in lowered for word in _SAD_WORDS):
        return True
    if ("e1" in lowered or "e+1" in lowered) and _EXPONENT.search(text):
        return True
    for run in _DIGIT_RUN.finditer(text):
        if sum(ch.isdecimal() for ch in run.group()) >= 12:
            return True
    return _any_interesting_field(frozenset(_KEY.findall(text)), identifiers, identifiers.version)


# The same decision for a whole message at once, on its raw JSON bytes (``raw_json_needs_scrub``): ASCII
# only, translated so that each question is one C-level search over the message. Digits become ``0``;
# separators a PAN may hold (whitespace, ``-``) and ``+`` go, joining digit groups (a superset); the
# characters a JSON number can follow (``:``, ``,``, ``[``) all become ``:``.
_RAW_TABLE = bytes.maketrans(b"123456789,[E", b"000000000::e")
_RAW_DROP = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f-+"
_RAW_TWELVE_DIGITS = b"0" * 12  # a PAN or track data needs twelve digits, separators aside
_RAW_EXPONENT = re.compile(rb":0+(?:\.0+)?e")  # a JSON number written with an exponent (1e15)
_RAW_SECRET = re.compile(rb"t[ka]_[0-9a-f]{12}_")  # the head of ``SECRET``
_RAW_PHONE = re.compile(rb"\+\d(?:[\s\-().]{0,2}\d){7}")  # the head of ``PHONE`` (ASCII only here)
_RAW_SAD_C = re.compile(rb"c(?:v[vcn]|av|id|sc)")  # cvv, cvc, cvn, cav, cid, csc (``scrub_card_text``)


def raw_json_needs_scrub(raw: bytes) -> bool:
    """False only when no string or number of the JSON text ``raw`` (keys included) would be changed by
    the walk: no twelve digits (PAN, track data, a big number), no number with an exponent, no e-mail,
    international phone number, secret or named code. Field names are not judged here (see
    ``json_keys`` and ``fields_need_scrub``). Non-ASCII text and text with escapes always need the walk.
    A superset test, like ``needs_scrub``: True may still change nothing."""
    if not raw.isascii() or b"\\" in raw or b"@" in raw:
        return True
    if b"+" in raw and _RAW_PHONE.search(raw):
        return True
    shape = raw.translate(_RAW_TABLE, _RAW_DROP)
    if _RAW_TWELVE_DIGITS in shape or (b"0e" in shape and _RAW_EXPONENT.search(shape)):
        return True
    if b"_" in raw and _RAW_SECRET.search(raw):
        return True
    lowered = raw.lower()
    return b"pin" in lowered or b"security" in lowered or _RAW_SAD_C.search(lowered) is not None


def json_keys(raw: bytes) -> frozenset[str]:
    """Every object key of the JSON text ``raw`` (ASCII, without backslash escapes, as
    ``raw_json_needs_scrub`` requires), at any depth."""
    return frozenset(key.decode() for key in set(_RAW_KEY.findall(raw)) if key)


def fields_need_scrub(keys: frozenset[str], identifiers: IdentifierRegistry = DEFAULT_IDENTIFIERS) -> bool:
    """Whether any of these field names is card data, an identifier, or an object whose fields may be."""
    return _any_interesting_field(keys, identifiers, identifiers.version)


@lru_cache(maxsize=4096)
def _any_interesting_field(keys: frozenset[str], identifiers: IdentifierRegistry, _version: int) -> bool:
    """Events of one kind share their field names: decided once per name set (and registry version)."""
    return any(
        is_sad_name(key) or identifiers.kind_for_field(key) is not None or identifiers.is_parent(key) for key in keys
    )


class TooDeep(ValueError):
    """The value nests deeper than ``MAX_DEPTH``; it cannot be checked, so it must not be stored."""


class Tokenizer(Protocol):
    def token(self, kind: IdentifierKind, value: str) -> str:
        """What replaces an identifier of ``kind`` (``value`` as found, not yet normalized)."""
        ...


class Redactor:
    """Replaces identifiers by a marker: for places with no keyed tokens (dead letters, logs, reports)."""

    def token(self, kind: IdentifierKind, value: str) -> str:
        return f"[{kind.name.upper()} REMOVED]"


REDACT = Redactor()


@dataclass(slots=True)
class Scrubbed:
    value: Any
    counts: dict[str, int] = field(default_factory=dict)  # what was removed/replaced, by kind

    @property
    def changed(self) -> bool:
        return bool(self.counts)


def scrub(
    value: Any, *, tokenizer: Tokenizer = REDACT, identifiers: IdentifierRegistry = DEFAULT_IDENTIFIERS
) -> Scrubbed:
    """A scrubbed copy of a JSON value (the value itself when there is nothing to scrub). Raises
    ``TooDeep`` past ``MAX_DEPTH`` levels."""
    if not needs_scrub(value, identifiers):
        return Scrubbed(value, {})
    counts: dict[str, int] = {}
    return Scrubbed(_Walker(tokenizer, identifiers, counts).value(value, 0), counts)


def scrub_text(text: str, *, tokenizer: Tokenizer = REDACT, counts: dict[str, int] | None = None) -> str:
    """One string: card data removed, secrets removed, e-mail addresses and international phone numbers
    replaced by tokens (or markers)."""
    return _Walker(tokenizer, DEFAULT_IDENTIFIERS, {} if counts is None else counts).text(text)


def scrub_bytes(raw: bytes) -> bytes:
    """Raw input kept for diagnosis (dead letters): JSON is scrubbed structurally, anything else as text
    (UTF-8, else Latin-1, which maps bytes one to one). Unchanged input comes back byte for byte."""
    try:
        result = scrub(orjson.loads(raw))
    except (orjson.JSONDecodeError, TooDeep):
        pass
    else:
        return orjson.dumps(result.value) if result.changed else raw
    try:
        text, codec = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, codec = raw.decode("latin-1"), "latin-1"
    counts: dict[str, int] = {}
    scrubbed = scrub_text(text, counts=counts)
    return scrubbed.encode(codec) if counts else raw


class _Walker:
    def __init__(self, tokenizer: Tokenizer, identifiers: IdentifierRegistry, counts: dict[str, int]) -> None:
        self.tokenizer = tokenizer
        self.identifiers = identifiers
        self.counts = counts

    def count(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    def value(self, value: Any, depth: int, parent: str | None = None) -> Any:
        """``parent``: the field holding ``value`` (lists pass it on to their items)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return self.mapping(value, depth, parent)
        if isinstance(value, list | tuple):
            if depth >= MAX_DEPTH:
                raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
            return [self.value(item, depth + 1, parent) for item in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            return self.number(value)
        return value

    def mapping(self, mapping: dict[Any, Any], depth: int, parent: str | None = None) -> dict[str, Any]:
        if depth >= MAX_DEPTH:
            raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
        out: dict[str, Any] = {}
        for key, item in mapping.items():
            name = str(key)
            if is_sad_field(name, item):
                self.count("sad")
                continue
            kind = self.identifiers.kind_for_field(name, parent)
            new_item = self.value(item, depth + 1, name) if kind is None else self.identifier(kind, item, depth + 1)
            new_key = name if _plain_key(name) else self.text(name)
            while new_key in out:  # two keys scrubbed to the same marker
                new_key += "'"
            out[new_key] = new_item
        return out

    def identifier(self, kind: IdentifierKind, value: Any, depth: int) -> Any:
        """Every scalar under a field naming an identifier is replaced by its token."""
        if depth >= MAX_DEPTH:
            raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, str):
            if not value.strip():
                return value
            self.count(f"identifier:{kind.name}")
            return self.tokenizer.token(kind, value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            self.count(f"identifier:{kind.name}")
            text = str(value) if isinstance(value, int) or not value.is_integer() else str(int(value))
            return self.tokenizer.token(kind, text)
        if isinstance(value, dict):
            return {self.text(str(k)): self.identifier(kind, v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.identifier(kind, item, depth + 1) for item in value]
        return value

    def number(self, value: int | float) -> Any:
        if isinstance(value, float):
            if not value.is_integer() or not 1e11 <= abs(value) < 1e20:
                return value
            digits = str(int(abs(value)))
        else:
            if abs(value) < 10**11:
                return value
            digits = str(abs(value))
        if is_pan(digits):
            self.count("pan")
            return PAN_MARKER
        return value

    def text(self, text: str) -> str:
        if len(text) < 3 or _SUSPICIOUS.search(text) is None:
            return text
        text = scrub_card_text(text, self.counts)
        if "_" in text and SECRET.search(text):
            text, found = SECRET.subn(SECRET_MARKER, text)
            self.count("secret", found)
        if "@" in text and EMAIL.search(text):
            text = EMAIL.sub(lambda m: self._token(EMAIL_KIND, m.group()), text)
        if "+" in text and PHONE.search(text):
            text = PHONE.sub(lambda m: self._token(PHONE_KIND, m.group()), text)
        return text

    def _token(self, kind: IdentifierKind, found: str) -> str:
        self.count(f"identifier:{kind.name}")
        return self.tokenizer.token(kind, found)


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # pan, track, sad, secret, email, phone, mac
    path: str  # where: $.a[0].b (a key itself: $.a.<key>)


def scan(value: Any, *, identifiers: IdentifierRegistry = DEFAULT_IDENTIFIERS) -> list[Finding]:
    """What a value holds that must not be stored, and where; values are never echoed back. For leak
    scans (dumps, logs, breach drills) and tests."""
    findings: list[Finding] = []
    _scan(value, "$", findings, identifiers, 0, None)
    return findings


def scan_text(text: str) -> list[str]:
    """Kinds of sensitive data found in one string (one entry per occurrence)."""
    kinds: list[str] = []
    counts: dict[str, int] = {}
    scrub_card_text(text, counts)
    for kind, n in counts.items():
        kinds += [kind] * n
    kinds += ["secret"] * len(find_secrets(text))
    kinds += ["email"] * len(find_emails(text))
    kinds += ["phone"] * len(find_phones(text))
    kinds += ["mac"] * len(MAC.findall(text))
    return kinds


_PROTECTED = re.compile(r"tokd?_[a-z_]+_[a-z2-7]{26,52}|\[[A-Z_ ]+ REMOVED\]")


def _raw_identifier(value: Any) -> bool:
    """An identifier field holding something other than a token or a removal marker."""
    if isinstance(value, str):
        return bool(value.strip()) and _PROTECTED.fullmatch(value) is None
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scan(
    value: Any, path: str, out: list[Finding], identifiers: IdentifierRegistry, depth: int, parent: str | None
) -> None:
    if depth > MAX_DEPTH:
        out.append(Finding("too_deep", path))
        return
    if isinstance(value, str):
        out.extend(Finding(kind, path) for kind in scan_text(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            out.extend(Finding(kind, f"{path}.<key>") for kind in scan_text(name))
            if is_sad_field(name, item):
                out.append(Finding("sad", f"{path}.{name}"))
            kind = identifiers.kind_for_field(name, parent)
            if kind is not None and _raw_identifier(item):
                out.append(Finding(kind.name, f"{path}.{name}"))
            _scan(item, f"{path}.{name}", out, identifiers, depth + 1, name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _scan(item, f"{path}[{index}]", out, identifiers, depth + 1, parent)
    elif (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and _Walker(REDACT, identifiers, {}).number(value) == PAN_MARKER
    ):
        out.append(Finding("pan", path))


__all__ = [
    "MAX_DEPTH",
    "PAN_MARKER",
    "REDACT",
    "SAD_MARKER",
    "TRACK_MARKER",
    "Finding",
    "Redactor",
    "Scrubbed",
    "Tokenizer",
    "TooDeep",
    "fields_need_scrub",
    "json_keys",
    "needs_scrub",
    "raw_json_needs_scrub",
    "scan",
    "scan_text",
    "scrub",
    "scrub_bytes",
    "scrub_text",
]
