"""Simulated shoppers for the privacy probe: people with a phone, a payment card and (some) the tenant's app.

Pure and seeded. Each shopper carries the sensitive values a real deployment receives in raw inputs —
a name, an e-mail address, a phone number, the phone's MAC address, its install and advertising ids, a
payment card (a Luhn-valid test number of some brand with its CVV and track data), a processor card
fingerprint and a loyalty number — so the probe can plant them and the breach drill can prove that none
of them is stored. E-mail addresses use the reserved ``example.*`` domains.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from tradeoff.privacy.scrub.cards import luhn_valid

FIRST_NAMES = (
    "Maria", "Jonas", "Aylin", "Lukas", "Sofia", "Mehmet", "Hannah", "Jürgen", "Chiara", "Tomasz",
    "Fatima", "Oskar", "Ingrid", "Kwame", "Léa", "Dmitri", "Zofia", "Emil", "Noor", "Björn",
)  # fmt: skip
LAST_NAMES = (
    "Schmidt", "Okonkwo", "Yılmaz", "Lindqvist", "Moreau", "Kowalski", "Brennan", "Haddad", "Albrecht",
    "Fontaine", "Novák", "Castellano", "Wójcik", "Østergaard", "Papadopoulos", "Takahashi", "Quintero",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
_ASCII = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "é": "e", "ı": "i", "ó": "o", "á": "a", "ø": "oe"})


@dataclass(frozen=True, slots=True)
class CardBrand:
    name: str
    prefixes: tuple[str, ...]
    length: int
    groups: tuple[int, ...]  # how the number is printed on the card (4-4-4-4, Amex 4-6-5, Diners 4-6-4)


BRANDS = (
    CardBrand("visa", ("4",), 16, (4, 4, 4, 4)),
    CardBrand("mastercard", ("51", "53", "55", "2223", "2500"), 16, (4, 4, 4, 4)),
    CardBrand("amex", ("34", "37"), 15, (4, 6, 5)),
    CardBrand("discover", ("6011", "65"), 16, (4, 4, 4, 4)),
    CardBrand("jcb", ("3528", "3566", "3589"), 16, (4, 4, 4, 4)),
    CardBrand("diners", ("36", "38"), 14, (4, 6, 4)),
    CardBrand("unionpay", ("62",), 16, (4, 4, 4, 4)),
    CardBrand("maestro", ("6759", "5018"), 19, (4, 4, 4, 4, 3)),
    CardBrand("mir", ("2200", "2204"), 16, (4, 4, 4, 4)),
)
BRAND = {brand.name: brand for brand in BRANDS}
# The numbers card schemes and processors publish for testing (every one is Luhn-valid).
TEST_PANS = (
    ("visa", "4111111111111111"),
    ("mastercard", "5555555555554444"),
    ("amex", "378282246310005"),
    ("discover", "6011111111111117"),
    ("jcb", "3530111333300000"),
    ("diners", "30569309025904"),
    ("unionpay", "6200000000000005"),
    ("visa", "4000056655665556"),
)


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` pass the Luhn check."""
    return next(d for d in "0123456789" if luhn_valid(partial + d))


def random_pan(rng: random.Random, brand: CardBrand) -> str:
    prefix = rng.choice(brand.prefixes)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(brand.length - len(prefix) - 1))
    return body + luhn_check_digit(body)


def grouped(pan: str, groups: tuple[int, ...], separator: str) -> str:
    """``4111 1111 1111 1111`` / ``3782-822463-10005``: the number as printed, with ``separator``."""
    parts, at = [], 0
    for size in groups:
        parts.append(pan[at : at + size])
        at += size
    if at < len(pan):
        parts.append(pan[at:])
    return separator.join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class Card:
    brand: str
    pan: str  # digits only
    expiry: str  # MM/YY
    cvv: str
    fingerprint: str  # what a processor sends instead of the number (e.g. Stripe's card fingerprint)

    @property
    def spaced(self) -> str:
        return grouped(self.pan, BRAND[self.brand].groups, " ")

    @property
    def dashed(self) -> str:
        return grouped(self.pan, BRAND[self.brand].groups, "-")

    @property
    def yymm(self) -> str:
        month, year = self.expiry.split("/")
        return year + month

    def track1(self, name: str) -> str:
        first, _, last = name.upper().partition(" ")
        return f"%B{self.pan}^{last}/{first}^{self.yymm}1010000000000000000?"

    def track2(self) -> str:
        return f";{self.pan}={self.yymm}10112345678901?"

    def emv57(self) -> str:
        """EMV tag 57 (track 2 equivalent data) as a contactless reader hands it over, in hex."""
        return f"{self.pan}D{self.yymm}1011234567890F"


@dataclass(frozen=True, slots=True)
class Shopper:
    key: str  # the simulator's handle ("shopper-03"); never sent
    name: str
    email: str
    phone: str  # national format, as typed into a form
    phone_intl: str  # the same number in international format
    mac: str  # the phone's Wi-Fi MAC (lower case, colons)
    platform: str  # "ios" | "android"
    install_id: str  # the app's install id
    ad_id: str  # IDFA (iOS) or GAID (Android)
    android_id: str | None
    card: Card
    loyalty_id: str
    tier: int | None  # None: no app; 0-3: the consent tier chosen in the app
    gpc: bool = False  # the phone sends Global Privacy Control
    later_tier: int | None = None  # a consent change after the first visit

    @property
    def has_app(self) -> bool:
        return self.tier is not None

    @property
    def macs(self) -> tuple[str, str, str]:
        """The MAC as different equipment writes it: ``a4:5e:…``, ``A4-5E-…``, Cisco's ``a45e.60c1.229f``."""
        hexdigits = self.mac.replace(":", "")
        dotted = ".".join(hexdigits[i : i + 4] for i in range(0, 12, 4))
        return self.mac, self.mac.upper().replace(":", "-"), dotted


# (tier, GPC, later tier) for each shopper in turn: no app, each tier, a GPC phone, consent changes.
DEFAULT_MIX: tuple[tuple[int | None, bool, int | None], ...] = (
    (None, False, None),
    (0, False, None),
    (1, False, 2),
    (2, False, None),
    (3, False, None),
    (None, False, None),
    (2, False, 0),
    (3, True, None),
    (1, False, None),
)


def make_shoppers(
    rng: random.Random, mix: tuple[tuple[int | None, bool, int | None], ...] = DEFAULT_MIX
) -> list[Shopper]:
    """One shopper per entry of ``mix``, with distinct names and values; the first cards are the schemes'
    published test numbers, the rest random Luhn-valid numbers of every brand."""
    firsts = rng.sample(FIRST_NAMES, len(mix))
    lasts = rng.sample(LAST_NAMES, len(mix))
    shoppers = []
    for index, (tier, gpc, later) in enumerate(mix):
        first, last = firsts[index], lasts[index]
        ios = rng.random() < 0.5
        shoppers.append(
            Shopper(
                key=f"shopper-{index + 1:02d}",
                name=f"{first} {last}",
                email=f"{first.lower().translate(_ASCII)}.{last.lower().translate(_ASCII)}{rng.randrange(10, 99)}"
                f"@{rng.choice(EMAIL_DOMAINS)}",
                **_phone(rng),
                mac=_phone_mac(rng),
                platform="ios" if ios else "android",
                install_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
                ad_id=_uuid(rng, upper=ios),
                android_id=None if ios else f"{rng.getrandbits(64):016x}",
                card=_card(rng, index),
                loyalty_id=f"LOY{rng.randrange(10**9, 10**10)}",
                tier=tier,
                gpc=gpc,
                later_tier=later,
            )
        )
    return shoppers


def _uuid(rng: random.Random, *, upper: bool) -> str:
    value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return value.upper() if upper else value


def _phone(rng: random.Random) -> dict[str, str]:
    """A German mobile number: ``0151 23456789`` nationally, ``+49 151 23456789`` internationally."""
    area = rng.choice(("151", "160", "170", "176"))
    number = "".join(rng.choice("0123456789") for _ in range(8))
    return {"phone": f"0{area} {number}", "phone_intl": f"+49 {area} {number}"}


def _phone_mac(rng: random.Random) -> str:
    """A phone's randomized Wi-Fi MAC: locally administered, unicast (first octet x2, x6, xA or xE)."""
    octets = [rng.randrange(256) for _ in range(6)]
    octets[0] = (octets[0] & 0xFC) | 0x02
    return ":".join(f"{octet:02x}" for octet in octets)


def _card(rng: random.Random, index: int) -> Card:
    if index < len(TEST_PANS):
        brand, pan = TEST_PANS[index]
        if index % 2:  # every other shopper gets a fresh random number of the next brand instead
            brand = BRANDS[index % len(BRANDS)].name
            pan = random_pan(rng, BRAND[brand])
    else:
        brand = BRANDS[index % len(BRANDS)].name
        pan = random_pan(rng, BRAND[brand])
    expiry = f"{rng.randrange(1, 13):02d}/{rng.randrange(27, 32)}"
    cvv = "".join(rng.choice("0123456789") for _ in range(4 if brand == "amex" else 3))
    fingerprint = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz") for _ in range(16))
    return Card(brand=brand, pan=pan, expiry=expiry, cvv=cvv, fingerprint=fingerprint)
