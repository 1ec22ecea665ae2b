"""Coupon codes a cashier can type and nobody can forge: ``7K3M-Q9XD-2HBW``.

A code is ``serial_bits`` of enciphered serial followed by ``tag_bits`` of HMAC-SHA256 tag, written in
Crockford base32 (digits and letters without I, L, O, U), grouped by four. The tag is a MAC under the
tenant's coupon key over the serial, so only the platform can make a code that checks; the serial is
enciphered with a small keyed Feistel permutation so codes look random and reveal neither how many
coupons a merchant issued nor in which order.

A guess (random string, or a real code with characters changed) passes only if its tag matches the
MAC of whatever serial it decodes to: probability ``2**-tag_bits`` per attempt (2.9e-11 for the
default 35 bits; 10,000 attempts: 2.9e-7). Reading is forgiving: case-insensitive, spaces and dashes
ignored, O read as 0 and I/L as 1. The key is an explicit argument (``coupon_key`` gets it from the
platform's key provider), so everything here is pure.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from tradeoff.core.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUES = {char: index for index, char in enumerate(ALPHABET)}
_CONFUSABLE = {"O": "0", "I": "1", "L": "1"}
_SEPARATORS = frozenset(" -\t\n\r")
_DOMAIN = b"tradeoff/coupon-code/v1"
_ROUNDS = 8
MIN_KEY_BYTES = 16


class InvalidCode(InvalidInput):
    """A code that is not one of ours. The reason never says which part failed the check."""

    def __init__(self, reason: str) -> None:
        super().__init__("code", reason)


@dataclass(frozen=True, slots=True)
class CodeFormat:
    """How many bits carry the serial and the tag; together a multiple of 5 (one base32 character)."""

    serial_bits: int = 25
    tag_bits: int = 35
    group: int = 4

    def __post_init__(self) -> None:
        if not 8 <= self.serial_bits <= 63:
            raise InvalidInput("serial_bits", f"must be 8–63, got {self.serial_bits}")
        if not 30 <= self.tag_bits <= 64:
            raise InvalidInput("tag_bits", f"must be 30–64 so forgeries stay below 1e-9 a try, got {self.tag_bits}")
        if (self.serial_bits + self.tag_bits) % 5:
            raise InvalidInput("tag_bits", "serial_bits + tag_bits must be a multiple of 5 (one character each)")
        if self.group < 1:
            raise InvalidInput("group", f"must be positive, got {self.group}")

    @property
    def length(self) -> int:
        """Characters in a code, without the dashes."""
        return (self.serial_bits + self.tag_bits) // 5

    @property
    def max_serial(self) -> int:
        return (1 << self.serial_bits) - 1

    @property
    def forgery_probability(self) -> float:
        """Chance that one guessed or altered code is accepted."""
        return 2.0**-self.tag_bits


DEFAULT_FORMAT = CodeFormat()  # 12 characters XXXX-XXXX-XXXX: 33.5 million serials, 35-bit tag
COMPACT_FORMAT = CodeFormat(serial_bits=20, tag_bits=30)  # 10 characters XXXX-XXXX-XX: 1 million serials


def _keyed(key: bytes, label: bytes) -> hmac.HMAC:
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise InvalidInput("key", f"must be at least {MIN_KEY_BYTES} bytes of key material")
    return _derive(key, label)


@lru_cache(maxsize=256)
def _derive(key: bytes, label: bytes) -> hmac.HMAC:
    """A keyed HMAC, separate for the tag and the permutation (cached and copied: tills read codes in a row)."""
    subkey = hmac.new(key, _DOMAIN + b"/" + label, hashlib.sha256).digest()
    return hmac.new(subkey, digestmod=hashlib.sha256)


def _prf(mac: hmac.HMAC, message: bytes) -> int:
    """The first 64 bits of HMAC-SHA256(subkey, message)."""
    copy = mac.copy()
    copy.update(message)
    return int.from_bytes(copy.digest()[:8], "big")


def _tag(mac: hmac.HMAC, serial: int, fmt: CodeFormat) -> int:
    return _prf(mac, bytes([fmt.serial_bits, fmt.tag_bits]) + serial.to_bytes(8, "big")) >> (64 - fmt.tag_bits)


def _round(mac: hmac.HMAC, index: int, half: int, bits: int) -> int:
    return _prf(mac, bytes([index]) + half.to_bytes(8, "big")) & ((1 << bits) - 1)


def _permute(mac: hmac.HMAC, value: int, bits: int, *, inverse: bool) -> int:
    """A keyed permutation of ``bits``-bit integers (a Feistel network; unbalanced when ``bits`` is odd)."""
    left_bits, right_bits = bits - bits // 2, bits // 2
    rounds = range(_ROUNDS - 1, -1, -1) if inverse else range(_ROUNDS)
    left, right = value >> right_bits, value & ((1 << right_bits) - 1)
    for index in rounds:
        # Alternate which half is mixed so both widths stay fixed when the halves differ in size.
        if index % 2 == 0:
            left ^= _round(mac, index, right, left_bits)
        else:
            right ^= _round(mac, index, left, right_bits)
    return (left << right_bits) | right


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def group_code(raw: str, fmt: CodeFormat = DEFAULT_FORMAT) -> str:
    """``ABCDEFGHJKMN`` → ``ABCD-EFGH-JKMN``."""
    return "-".join(raw[i : i + fmt.group] for i in range(0, len(raw), fmt.group))


def make_code(*, key: bytes, serial: int, fmt: CodeFormat = DEFAULT_FORMAT) -> str:
    """The printed code for coupon ``serial`` (0 … ``fmt.max_serial``) under a tenant's coupon key."""
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 <= serial <= fmt.max_serial:
        raise InvalidInput("serial", f"must be an integer from 0 to {fmt.max_serial}, got {serial!r}")
    tag = _tag(_keyed(key, b"tag"), serial, fmt)
    hidden = _permute(_keyed(key, b"permute"), serial, fmt.serial_bits, inverse=False)
    return group_code(_encode((hidden << fmt.tag_bits) | tag, fmt.length), fmt)


def normalize_code(text: str, fmt: CodeFormat = DEFAULT_FORMAT) -> str:
    """The canonical spelling of what was typed (grouped, upper case), or ``InvalidCode`` saying why not."""
    if not isinstance(text, str):
        raise InvalidCode("must be text")
    chars = []
    for char in text.upper():
        if char in _SEPARATORS:
            continue
        char = _CONFUSABLE.get(char, char)
        if char not in _VALUES:
            raise InvalidCode(f"{char!r} is not a code character (digits and letters except U)")
        chars.append(char)
    if len(chars) != fmt.length:
        raise InvalidCode(f"a coupon code has {fmt.length} characters, got {len(chars)}")
    return group_code("".join(chars), fmt)


def read_code(*, key: bytes, code: str, fmt: CodeFormat = DEFAULT_FORMAT) -> int:
    """The serial a code was made for; ``InvalidCode`` when it was not made with this key."""
    canonical = normalize_code(code, fmt).replace("-", "")
    number = 0
    for char in canonical:
        number = (number << 5) | _VALUES[char]
    tag = number & ((1 << fmt.tag_bits) - 1)
    serial = _permute(_keyed(key, b"permute"), number >> fmt.tag_bits, fmt.serial_bits, inverse=True)
    expected = _tag(_keyed(key, b"tag"), serial, fmt)
    if not hmac.compare_digest(tag.to_bytes(8, "big"), expected.to_bytes(8, "big")):
        raise InvalidCode("not a valid coupon code")
    return serial
