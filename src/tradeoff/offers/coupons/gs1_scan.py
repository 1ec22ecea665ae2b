"""A digit cursor for the GS1 coupon linters, failing with the linter's own error names.

The AI (8110) and (8112) values are runs of fields whose lengths come from variable-length indicators
(VLIs). Both linters in gs1/gs1-syntax-dictionary check in the same way: "missing" when the data ends
where a field should start, "invalid" when an indicator digit is out of range, "truncated" when fewer
digits remain than the indicator promises. ``Cursor`` gives those three checks one spelling each, so
the AI modules read like the field tables they implement.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum

from tradeoff.core.errors import InvalidInput

MAX_VALUE_LENGTH = 70
"""Both coupon AIs are ``X..70`` in the GS1 syntax dictionary."""


class GcpStatus(StrEnum):
    """What a GS1 Company Prefix lookup service said (the linter's ``valid``/``offline`` outputs)."""

    VALID = "valid"
    INVALID = "invalid"
    OFFLINE = "offline"


GcpLookup = Callable[[str], GcpStatus]
"""Optional hook to a register of allocated company prefixes; without one every prefix is accepted,
as the reference linter does by default."""


class LintFailure(Exception):
    """The first rule a value breaks: the GS1 linter error name, where, and a sentence saying why."""

    def __init__(self, error: str, position: int, message: str) -> None:
        super().__init__(f"{error} at {position}: {message}")
        self.error = error
        self.position = position
        self.message = message


class Cursor:
    """Reads fields left to right from an all-digit value."""

    def __init__(self, data: str) -> None:
        self.data = data
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def next_is(self, indicator: str) -> bool:
        """Whether an optional field starting with ``indicator`` comes next."""
        return self.pos < len(self.data) and self.data[self.pos] == indicator

    def skip(self) -> None:
        self.pos += 1

    def digit(self, *, missing: str, what: str, allowed: str | None = None, invalid: str = "") -> str:
        """One digit: ``missing`` if the data ends here, ``invalid`` if it is not in ``allowed``."""
        if self.pos >= len(self.data):
            raise LintFailure(missing, self.pos, f"the data ends where the {what} should be")
        value = self.data[self.pos]
        if allowed is not None and value not in allowed:
            raise LintFailure(invalid, self.pos, f"{what} {value!r} is not one of {', '.join(allowed)}")
        self.pos += 1
        return value

    def take(self, length: int, *, truncated: str, what: str) -> str:
        """Exactly ``length`` digits, or ``truncated`` naming how many were needed and found."""
        if self.remaining < length:
            raise LintFailure(truncated, self.pos, f"the {what} needs {length} digits but only {self.remaining} remain")
        value = self.data[self.pos : self.pos + length]
        self.pos += length
        return value


def require_digits(data: str) -> None:
    """Both coupon AIs are digits only (GS1_LINTER_NON_DIGIT_CHARACTER at the first other character)."""
    for index, char in enumerate(data):
        if char not in "0123456789":
            raise LintFailure("GS1_LINTER_NON_DIGIT_CHARACTER", index, f"{char!r} is not a digit")


def check_gcp(gcp: str, position: int, lookup: GcpLookup | None) -> None:
    """The ``gcppos1`` rule as the coupon linters use it: ask the lookup service when there is one."""
    if lookup is None:
        return
    status = lookup(gcp)
    if status is GcpStatus.OFFLINE:
        raise LintFailure("GS1_LINTER_GCP_DATASOURCE_OFFLINE", position, "the company prefix register is offline")
    if status is not GcpStatus.VALID:
        raise LintFailure("GS1_LINTER_INVALID_GCP_PREFIX", position, f"{gcp} is not an allocated company prefix")


def yymmdd(text: str) -> date | None:
    """A real calendar date for GS1 ``YYMMDD`` (read as 20YY; day 00 is not allowed), else ``None``.

    Reading the year as 20YY makes "YY divisible by 4" the leap-year rule, which is what the GS1
    ``yymmdd`` linter applies (e.g. 000229 and 960229 are valid, 210229 is not).
    """
    try:
        return date(2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return None


def digit_field(field: str, value: str | int, *, minimum: int, maximum: int) -> str:
    """For the builders: ``value`` as ``minimum``–``maximum`` digits (an int is zero-padded to ``minimum``)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(field, "must be a string of digits or a non-negative integer")
    if isinstance(value, int):
        if value < 0:
            raise InvalidInput(field, f"must not be negative, got {value}")
        text = str(value).zfill(minimum)
    else:
        text = value
    if not text.isascii() or not text.isdigit():
        raise InvalidInput(field, f"must be digits only, got {text!r}")
    if not minimum <= len(text) <= maximum:
        raise InvalidInput(field, f"must have {minimum}–{maximum} digits, got {len(text)}")
    return text
