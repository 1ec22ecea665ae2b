"""Detectors and normalizers for personal identifiers: e-mail addresses, phone numbers, MAC and IP
addresses, and the platform's own secrets. Used by the ingress gate (to tokenize) and by anything that
scans stored data for leaks (breach drills, dump scans). Pure functions, no I/O."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# International format only ("+44 20 7946 0958", "+1 (555) 010-9999"): 8–15 digits after the plus. Bare
# national numbers are indistinguishable from other numbers in free text; fields named phone catch them.
PHONE = re.compile(r"(?<![\w+])\+\d(?:[\s\-().]{0,2}\d){7,14}(?!\d)")
MAC = re.compile(
    r"(?<![0-9A-Fa-f:\-])(?:[0-9A-Fa-f]{2}([:\-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}"
    r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![0-9A-Fa-f:\-])"
)
# Tradeoff API keys (tk_<prefix>_<secret>) and shopper app tokens (ta_<prefix>_<secret>).
SECRET = re.compile(r"\bt[ka]_[0-9a-f]{12}_[A-Za-z0-9_\-]{20,}")
SECRET_MARKER = "[SECRET REMOVED]"


def find_emails(text: str) -> list[str]:
    return EMAIL.findall(text) if "@" in text else []


def find_phones(text: str) -> list[str]:
    return [m.group() for m in PHONE.finditer(text)] if "+" in text else []


def find_macs(text: str) -> list[str]:
    return [m.group() for m in MAC.finditer(text)]


def find_secrets(text: str) -> list[str]:
    return SECRET.findall(text) if "_" in text else []


def normalize_email(value: str) -> str:
    """NFC, trimmed, lower-cased: the vault's normalization, so gate tokens and vault tokens agree."""
    return unicodedata.normalize("NFC", value.strip()).lower()


def normalize_phone(value: str) -> str:
    """Digits, keeping a leading ``+`` (``+1 (555) 010-9999`` → ``+15550109999``)."""
    stripped = value.strip()
    digits = "".join(ch for ch in stripped if ch.isdigit())
    if stripped.startswith("+"):
        return f"+{digits}"
    if stripped.startswith("00") and len(digits) > 8:
        return f"+{digits[2:]}"  # 00 is the international call prefix in most countries
    return digits


def normalize_mac(value: str) -> str:
    """Twelve lower-case hex digits when ``value`` is a MAC address in any usual notation."""
    hexdigits = "".join(ch for ch in value.lower() if ch in "0123456789abcdef")
    return hexdigits if len(hexdigits) == 12 else value.strip().lower()


def normalize_ip(value: str) -> str:
    try:
        return ipaddress.ip_address(value.strip()).compressed
    except ValueError:
        return value.strip().lower()


def normalize_name(value: str) -> str:
    """A person's name: NFC, whitespace collapsed, case-folded (``MARIA  SCHMIDT`` = ``Maria Schmidt``)."""
    return " ".join(unicodedata.normalize("NFC", value).split()).casefold()


def normalize_opaque(value: str) -> str:
    """Device, advertising and install ids: case and surrounding space carry no meaning."""
    return value.strip().lower()
