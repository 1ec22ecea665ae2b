"""Reading element values with warnings instead of failures: a bad number or date becomes None plus a
warning naming the line and element (``line 12: PA102 'x1' is not a number``)."""

from __future__ import annotations

from datetime import datetime

from tradeoff.vending.dex.segments import Segment

MAX_DIGITS = 18  # DEX counters are at most 10 digits; longer is garbage (and int() of huge strings is slow)

# ISO 4217 numeric → alpha for the currencies vending machines are sold with; ID402 carries the numeric one
# (often with a leading country-code digit: "1978" = EUR).
CURRENCIES: dict[int, str] = {
    978: "EUR", 840: "USD", 826: "GBP", 756: "CHF", 752: "SEK", 578: "NOK", 208: "DKK", 985: "PLN", 203: "CZK",
    348: "HUF", 946: "RON", 975: "BGN", 941: "RSD", 980: "UAH", 949: "TRY", 643: "RUB", 124: "CAD", 36: "AUD",
    554: "NZD", 392: "JPY", 156: "CNY", 356: "INR", 344: "HKD", 702: "SGD", 458: "MYR", 764: "THB", 360: "IDR",
    608: "PHP", 704: "VND", 410: "KRW", 376: "ILS", 784: "AED", 682: "SAR", 818: "EGP", 566: "NGN", 404: "KES",
    710: "ZAR", 986: "BRL", 484: "MXN", 32: "ARS", 152: "CLP", 170: "COP", 604: "PEN", 352: "ISK",
}  # fmt: skip


def element_name(segment: Segment, position: int) -> str:
    return f"{segment.tag}{position:02d}"


class Values:
    """Typed access to elements; collects the warnings it gives."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, segment: Segment | None, message: str) -> None:
        self.warnings.append(f"line {segment.line}: {message}" if segment else message)

    def text(self, segment: Segment | None, position: int) -> str | None:
        if segment is None:
            return None
        return segment.element(position) or None

    def number(self, segment: Segment | None, position: int) -> int | None:
        if segment is None:
            return None
        raw = segment.element(position)
        if not raw:
            return None
        if raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS:
            return int(raw)
        self.warn(segment, f"{element_name(segment, position)} {raw[:40]!r} is not a number; left empty")
        return None

    def machine_time(self, segment: Segment | None, date_position: int, time_position: int) -> str | None:
        """ISO 8601 local machine time from a DEX date (YYYYMMDD or YYMMDD) and time (HHMM or HHMMSS)."""
        if segment is None:
            return None
        date_text, time_text = segment.element(date_position), segment.element(time_position)
        if not date_text:
            return None
        name = element_name(segment, date_position)
        parsed = _parse(date_text, time_text)
        if parsed is None:
            self.warn(segment, f"{name}/{element_name(segment, time_position)} {date_text!r} {time_text!r} "
                      "is not a valid date and time; left empty")  # fmt: skip
            return None
        return parsed.isoformat()

    def currency(self, segment: Segment | None) -> str | None:
        """ISO alpha currency from ID4: an alpha code in ID403 or ID402, else a known numeric code."""
        if segment is None:
            return None
        candidates = [segment.element(3), segment.element(2)]
        for candidate in candidates:
            if len(candidate) == 3 and candidate.isascii() and candidate.isalpha():
                return candidate.upper()
        for candidate in candidates:
            if candidate.isascii() and candidate.isdigit() and len(candidate) <= 4 and int(candidate) != 0:
                code = int(candidate[-3:])
                if code in CURRENCIES:
                    return CURRENCIES[code]
                self.warn(segment, f"ID4 currency code {candidate!r} is not a known ISO 4217 code; left empty")
                return None
        return None


def _parse(date_text: str, time_text: str) -> datetime | None:
    if not (date_text.isascii() and date_text.isdigit()) or len(date_text) not in (6, 8):
        return None
    if time_text and (not (time_text.isascii() and time_text.isdigit()) or len(time_text) not in (4, 6)):
        return None
    if len(date_text) == 6:
        short = int(date_text[:2])
        year = 2000 + short if short < 70 else 1900 + short
        month, day = int(date_text[2:4]), int(date_text[4:6])
    else:
        year, month, day = int(date_text[:4]), int(date_text[4:6]), int(date_text[6:8])
    padded = (time_text or "0000").ljust(6, "0")
    try:
        return datetime(year, month, day, int(padded[:2]), int(padded[2:4]), int(padded[4:6]))
    except ValueError:
        return None
