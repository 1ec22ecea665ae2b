"""GS1 coupon element strings: ``(8110)…`` and ``(8112)…`` — check, decode, and build our own 8112.

Accepted input: a bracketed element string ``(8112)0012345…``; the same without brackets as a scanner
sends it (``8112…``, optionally after a symbology identifier such as ``]e0``); or a bare value with the
AI named separately (``ai="8112"``). The value is at most 70 characters (both AIs are ``X..70``) and is
then checked by the AI's linter port (``gs1_8110``, ``gs1_8112``). The result never raises for bad
input: it says ``valid`` false with the linter's error name, the position in the value and a reason that
starts with that name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tradeoff.offers.coupons.gs1_8110 import decode_8110
from tradeoff.offers.coupons.gs1_8112 import build_8112_value, decode_8112
from tradeoff.offers.coupons.gs1_scan import MAX_VALUE_LENGTH, GcpLookup, LintFailure

COUPON_AIS = ("8110", "8112")
_BRACKETED = re.compile(r"\((\d{2,4})\)(.*)", re.DOTALL)
_SYMBOLOGY_ID = re.compile(r"\][A-Za-z][0-9]")


@dataclass(frozen=True, slots=True)
class Gs1Check:
    """The verdict on one coupon element string; ``fields`` holds the decoded fields when valid."""

    valid: bool
    ai: str | None
    value: str | None
    error: str | None = None
    reason: str | None = None
    position: int | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"valid": self.valid, "reason": self.reason, "ai": self.ai, "value": self.value}
        if self.valid:
            out["fields"] = dict(self.fields)
        else:
            out["error"] = self.error
            out["position"] = self.position
        return out


def _syntax_error(reason: str, *, ai: str | None = None, value: str | None = None) -> Gs1Check:
    error = "ELEMENT_STRING_SYNTAX"
    return Gs1Check(valid=False, ai=ai, value=value, error=error, reason=f"{error}: {reason}")


def _split(text: str, ai: str | None) -> tuple[str, str] | Gs1Check:
    """(AI, value) from the accepted spellings, or the syntax error explaining what was expected."""
    stripped = text.strip()
    if "\x1d" in stripped:
        return _syntax_error("only one AI per element string is supported (found a GS separator)")
    if _SYMBOLOGY_ID.match(stripped):
        stripped = stripped[3:]
    match = _BRACKETED.fullmatch(stripped)
    if match:
        found_ai, value = match.group(1), match.group(2)
        if "(" in value or ")" in value:
            return _syntax_error("only one AI per element string is supported", ai=found_ai)
        if ai is not None and ai != found_ai:
            return _syntax_error(f"the string carries AI ({found_ai}) but AI ({ai}) was named", ai=found_ai)
        return found_ai, value
    if ai is not None:
        return ai, stripped
    if stripped[:4] in COUPON_AIS:
        return stripped[:4], stripped[4:]
    return _syntax_error("expected '(8110)…' or '(8112)…', or a bare value with the AI named")


def check_value(ai: str, value: str, *, gcp_lookup: GcpLookup | None = None) -> Gs1Check:
    """Check one AI (8110)/(8112) value against the linter rules and decode its fields."""
    if ai not in COUPON_AIS:
        return Gs1Check(
            valid=False,
            ai=ai,
            value=value,
            error="UNSUPPORTED_AI",
            reason=f"UNSUPPORTED_AI: AI ({ai}) is not a coupon AI (8110, 8112)",
        )
    if len(value) > MAX_VALUE_LENGTH:
        return Gs1Check(
            valid=False,
            ai=ai,
            value=value,
            error="VALUE_TOO_LONG",
            reason=f"VALUE_TOO_LONG: AI ({ai}) holds at most {MAX_VALUE_LENGTH} characters, got {len(value)}",
            position=MAX_VALUE_LENGTH,
        )
    try:
        fields = decode_8110(value, gcp_lookup=gcp_lookup) if ai == "8110" else decode_8112(value)
    except LintFailure as failure:
        return Gs1Check(
            valid=False,
            ai=ai,
            value=value,
            error=failure.error,
            reason=f"{failure.error}: {failure.message} (position {failure.position})",
            position=failure.position,
        )
    return Gs1Check(valid=True, ai=ai, value=value, fields=fields)


def check_element_string(text: str, *, ai: str | None = None, gcp_lookup: GcpLookup | None = None) -> Gs1Check:
    """Check a coupon element string (bracketed, scanned, or a bare value with ``ai``)."""
    split = _split(text, ai)
    if isinstance(split, Gs1Check):
        return split
    return check_value(split[0], split[1], gcp_lookup=gcp_lookup)


def bracketed(ai: str, value: str) -> str:
    """The human-readable element string, e.g. ``bracketed("8110", build_8110_value(...))``."""
    return f"({ai}){value}"


def build_8112(*, funder_id: str | int, offer_code: str | int, serial: str | int, format_code: int = 0) -> str:
    """The bracketed ``(8112)…`` element string for one of our serialized coupons (see ``build_8112_value``)."""
    value = build_8112_value(funder_id=funder_id, offer_code=offer_code, serial=serial, format_code=format_code)
    return bracketed("8112", value)
