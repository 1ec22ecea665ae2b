"""Payment card data: PANs (Luhn-valid with a known issuer prefix), track data and CVV/PIN fields.

PCI DSS 3.3.1 (no sensitive authentication data after authorization, ever) and 3.5.1 (PAN unreadable
wherever stored) apply to everything the platform stores or logs, so the rule here is simple: a PAN is
replaced by a marker, never kept truncated, hashed or as first6/last4. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

PAN_MARKER = "[PAN REMOVED]"
TRACK_MARKER = "[TRACK DATA REMOVED]"
SAD_MARKER = "[SAD REMOVED]"

MIN_PAN_DIGITS = 12
MAX_PAN_DIGITS = 19

# (prefix length, lowest, highest, scheme): issuer identification number ranges of the card schemes.
# Deliberately generous (a false positive costs a digit string, a miss costs a PCI breach); lengths are
# not checked per scheme for the same reason. UATP (prefix 1) is left out: it would catch epoch times.
IIN_RANGES: tuple[tuple[int, int, int, str], ...] = (
    (1, 4, 4, "visa"),
    (2, 51, 55, "mastercard"),
    (4, 2221, 2720, "mastercard"),
    (2, 34, 34, "amex"),
    (2, 37, 37, "amex"),
    (4, 6011, 6011, "discover"),
    (3, 644, 649, "discover"),
    (2, 65, 65, "discover"),
    (4, 3528, 3589, "jcb"),
    (3, 300, 305, "diners"),
    (4, 3095, 3095, "diners"),
    (2, 36, 36, "diners"),
    (2, 38, 39, "diners"),
    (2, 62, 62, "unionpay"),
    (2, 81, 82, "unionpay/rupay"),
    (2, 50, 50, "maestro"),
    (2, 56, 69, "maestro"),
    (4, 2200, 2204, "mir"),
    (4, 9792, 9792, "troy"),
)

_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check over ASCII digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        total += _DOUBLED[value] if position % 2 else value
    return total % 10 == 0


def issuer(digits: str) -> str | None:
    """The card scheme whose IIN range ``digits`` starts in, if any."""
    for length, low, high, scheme in IIN_RANGES:
        if len(digits) >= length and low <= int(digits[:length]) <= high:
            return scheme
    return None


def is_pan(digits: str) -> bool:
    """12–19 ASCII digits, Luhn-valid, with a known issuer prefix."""
    return (
        MIN_PAN_DIGITS <= len(digits) <= MAX_PAN_DIGITS
        and digits.isdigit()
        and digits.isascii()
        and luhn_valid(digits)
        and issuer(digits) is not None
    )


def ascii_digits(text: str) -> str:
    """Decimal digits of any script (fullwidth, Arabic-Indic…) as ASCII; other characters dropped."""
    if text.isascii():
        return "".join(ch for ch in text if ch.isdigit())
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


# Digit groups joined by up to three spaces/dashes ("4111 1111-1111 1111", "4111 - 1111 …"). Dots and
# slashes are not separators: they join decimals, dates and coordinates into false positives.
_RUN = re.compile(r"\d+(?:[\s\-]{1,3}\d+)*")
_GROUP = re.compile(r"\d+")
# A necessary condition for a PAN or track data: twelve digits with at most three separators between.
MAYBE_CARD = re.compile(r"\d(?:[\s\-]{0,3}\d){11}")


def find_pans(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` holding a PAN. Within a run of digit groups every sequence of whole groups is
    tried (the longest PAN from each start wins), so a PAN keeps being found with numbers around it
    ("qty 2 4111 1111 1111 1111 12/27"). A PAN glued to other digits without a separator is not a PAN."""
    if not MAYBE_CARD.search(text):
        return []
    spans: list[tuple[int, int]] = []
    for run in _RUN.finditer(text):
        spans.extend(_pans_in_run(run.group(), run.start()))
    return spans


def _pans_in_run(run: str, offset: int) -> Iterator[tuple[int, int]]:
    groups = [(m.start(), m.end(), ascii_digits(m.group())) for m in _GROUP.finditer(run)]
    if sum(len(g[2]) for g in groups) < MIN_PAN_DIGITS:
        return
    start = 0
    while start < len(groups):
        best: int | None = None
        digits = ""
        for end in range(start, len(groups)):
            digits += groups[end][2]
            if len(digits) > MAX_PAN_DIGITS:
                break
            if len(digits) >= MIN_PAN_DIGITS and is_pan(digits):
                best = end
        if best is None:
            start += 1
            continue
        yield offset + groups[start][0], offset + groups[best][1]
        start = best + 1


# A card number as stored text holds it: one run of 12-19 digits, or the groupings printed on cards
# (4-4-4-4 with an optional tail of 1-3, Amex 4-6-5, Diners 4-6-4) with one separator used throughout, and
# neither glued to letters or digits.
_STORED_PAN = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{12,19}|\d{4}([ \-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ \-])\d{6}\2\d{4,5})"
    r"(?![0-9A-Za-z])"
)


def find_stored_pans(text: str) -> list[tuple[int, int]]:
    """Spans of PANs shaped as people and systems write them, for scanning dumps, logs and backups.

    Stricter than ``find_pans`` (which the gate uses: any sequence of digit groups): a binary dump packs
    columns side by side ("…24.4310002026-11-29 07…" is a time next to a date, hex digests hold digit runs),
    and the generous rule turns those into card numbers. Look for exact planted values as well: they are
    found however they are glued."""
    if not MAYBE_CARD.search(text):
        return []
    return [match.span() for match in _STORED_PAN.finditer(text) if is_pan(ascii_digits(match.group()))]


# Magnetic-stripe data: track 1 (%B<PAN>^NAME^YYMM…?) and track 2 (;<PAN>=YYMM…? or EMV tag 57's D).
_TRACK = re.compile(
    r"%?[Bb]\d{12,19}\^[^\^\n]{0,26}\^[^\s?]*\??"  # track 1
    r"|;?\d{12,19}=\d{4}[^\s?]*\??"  # track 2
    r"|(?<![0-9A-Za-z])\d{12,19}[Dd]\d{7,}[Ff]?(?![0-9A-Za-z])"  # track 2 equivalent (EMV tag 57, hex)
)
# A verification code or PIN named in free text: "cvv 123", "CVC2: 0123", "security code 999", "PIN 1234".
_SAD_TEXT = re.compile(
    r"(?i)\b(?:cvv2?|cvc2?|cvn|cav2|cid|csc|security\s*code|pin(?:\s*(?:code|number))?)\b[\s:=#\"'\-]{0,4}\d{3,12}\b"
)


def scrub_card_text(text: str, counts: dict[str, int] | None = None) -> str:
    """Remove track data, named verification codes/PINs and PANs from one string."""
    if not text:
        return text
    if MAYBE_CARD.search(text):
        text = _count_sub(_TRACK, TRACK_MARKER, text, "track", counts)
    if any(word in text.lower() for word in ("cvv", "cvc", "cvn", "cav", "cid", "csc", "security", "pin")):
        text = _count_sub(_SAD_TEXT, SAD_MARKER, text, "sad", counts)
    spans = find_pans(text)
    if not spans:
        return text
    if counts is not None:
        counts["pan"] = counts.get("pan", 0) + len(spans)
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], PAN_MARKER]
        last = end
    out.append(text[last:])
    return "".join(out)


def _count_sub(pattern: re.Pattern[str], marker: str, text: str, kind: str, counts: dict[str, int] | None) -> str:
    new, found = pattern.subn(marker, text)
    if found and counts is not None:
        counts[kind] = counts.get(kind, 0) + found
    return new


# Field names that hold sensitive authentication data (compared lower-case with non-alphanumerics removed).
_SAD_KEY_PARTS = (
    "cvv",
    "cvc",
    "cvn",
    "cav2",
    "cardcode",
    "securitycode",
    "verificationvalue",
    "verificationcode",
    "track1",
    "track2",
    "track3",
    "trackdata",
    "magstripe",
    "magneticstripe",
    "stripedata",
    "pinblock",
    "pinblk",
    "encryptedpin",
    "pindata",
    "cardpin",
    "pinnumber",
    "pvv",
)
# Names that are SAD only when the value looks like a code (3–12 digits): "pin": 4 is a GPIO pin.
_AMBIGUOUS_SAD_KEYS = frozenset({"pin", "cid", "csc", "cvd", "pincode"})
_CODE = re.compile(r"\d(?:\s?\d){2,11}")


@lru_cache(maxsize=8192)
def normalize_key(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())


_SAD_NAME = re.compile("|".join(_SAD_KEY_PARTS))
_NOT_SAD, _SAD, _MAYBE_SAD = 0, 1, 2


@lru_cache(maxsize=8192)
def _sad_name(key: str) -> int:
    name = normalize_key(key)
    if _SAD_NAME.search(name):
        return _SAD
    return _MAYBE_SAD if name in _AMBIGUOUS_SAD_KEYS else _NOT_SAD


def is_sad_name(key: str) -> bool:
    """Whether a field of this name may hold SAD (for some values, if the name is ambiguous)."""
    return _sad_name(key) != _NOT_SAD


def is_sad_field(key: str, value: Any) -> bool:
    """Whether a field named ``key`` holding ``value`` is CVV/CVC/track/PIN data (removed whatever its value
    for unambiguous names; for ``pin``/``cid``/``csc`` only when the value looks like a code)."""
    kind = _sad_name(key)
    if kind == _SAD:
        return True
    if kind == _MAYBE_SAD:
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return 100 <= abs(value) < 10**12
        return isinstance(value, str) and _CODE.fullmatch(value.strip()) is not None
    return False
