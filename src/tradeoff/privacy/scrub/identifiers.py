"""Which payload fields name a person's identifiers, and how each kind is normalized before tokenizing.

Other capabilities add kinds (a POS connector registers ``card_fingerprint`` or ``loyalty_id``) with
``DEFAULT_IDENTIFIERS.register(...)``. Field names are compared lower-case with non-alphanumerics removed,
so ``deviceId``, ``device_id`` and ``Device-ID`` are the same field. A generic name is an identifier only
inside an object that is about a person (``within``): ``customer.name`` is a person's name, ``product.name``
is not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from tradeoff.privacy.scrub.cards import normalize_key
from tradeoff.privacy.scrub.detectors import (
    normalize_email,
    normalize_ip,
    normalize_mac,
    normalize_name,
    normalize_opaque,
    normalize_phone,
)


@dataclass(frozen=True, slots=True)
class IdentifierKind:
    name: str
    normalize: Callable[[str], str]
    # Kept linkable across days even for events without a consented subject: only for identifiers whose
    # linking is itself consent-checked later (a processor card fingerprint, linked only at tier 3).
    always_stable: bool = False


class IdentifierRegistry:
    def __init__(self) -> None:
        self._by_field: dict[str, IdentifierKind] = {}
        self._by_suffix: list[tuple[str, IdentifierKind]] = []
        self._kinds: dict[str, IdentifierKind] = {}
        self._within: dict[tuple[str, str], IdentifierKind] = {}  # (parent field, field) → kind
        self._parents: set[str] = set()
        self._memo: dict[str, IdentifierKind | None] = {}  # field name → kind, for the hot path
        self.version = 0  # bumped on every change, so callers may cache decisions per version

    def register(
        self,
        kind: IdentifierKind,
        *,
        fields: Iterable[str] = (),
        suffixes: Iterable[str] = (),
        within: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """``fields`` and ``suffixes`` name the kind anywhere; ``within`` maps a generic field name to the
        parent fields (objects or lists of objects) in which it names the kind: ``{"name": ("customer",)}``."""
        if kind.name in self._kinds and self._kinds[kind.name] != kind:
            raise ValueError(f"identifier kind {kind.name!r} is already registered differently")
        self._kinds[kind.name] = kind
        for field in fields:
            self._by_field[normalize_key(field)] = kind
        for suffix in suffixes:
            self._by_suffix.append((normalize_key(suffix), kind))
        for field, parents in (within or {}).items():
            for parent in parents:
                self._within[(normalize_key(parent), normalize_key(field))] = kind
                self._parents.add(normalize_key(parent))
        self._memo.clear()
        self.version += 1

    def kind(self, name: str) -> IdentifierKind:
        return self._kinds[name]

    def kind_for_field(self, key: str, parent: str | None = None) -> IdentifierKind | None:
        """The kind a field of this name holds (inside ``parent``, the field that holds its object)."""
        if parent is not None and self._within and normalize_key(parent) in self._parents:
            scoped = self._within.get((normalize_key(parent), normalize_key(key)))
            if scoped is not None:
                return scoped
        try:
            return self._memo[key]
        except KeyError:
            pass
        name = normalize_key(key)
        found = self._by_field.get(name)
        if found is None:
            found = next((kind for suffix, kind in self._by_suffix if name.endswith(suffix)), None)
        if len(self._memo) > 10_000:  # field names come from producers: bound the memo
            self._memo.clear()
        self._memo[key] = found
        return found

    def is_parent(self, key: str) -> bool:
        """Whether fields inside an object under ``key`` may be identifiers by ``within`` rules."""
        return bool(self._parents) and normalize_key(key) in self._parents

    def kinds(self) -> list[str]:
        return sorted(self._kinds)


EMAIL = IdentifierKind("email", normalize_email)
PHONE = IdentifierKind("phone", normalize_phone)
MAC = IdentifierKind("mac", normalize_mac)
DEVICE = IdentifierKind("device", normalize_opaque)
IP = IdentifierKind("ip", normalize_ip)
# Purchase-linking keys (tier 3): the join itself is consent-checked where it happens, so these stay stable.
# Normalized as the vault's ``TokenKind`` does, so ``tok_<kind>_<t>`` carries the vault's token ``t``.
CARD_FINGERPRINT = IdentifierKind("card_fingerprint", lambda value: value, always_stable=True)
LOYALTY_ID = IdentifierKind("loyalty_id", str.strip, always_stable=True)
# A person's name. Free text about a person (notes, comments) cannot be vetted for names or national phone
# numbers without a language model, so it is not kept either: the whole text becomes a token.
NAME = IdentifierKind("name", normalize_name)
FREE_TEXT = IdentifierKind("free_text", str.strip)
# Objects about one person: a generic ``name`` inside them is that person's name.
PERSON_OBJECTS = (
    "customer", "customers", "shopper", "cardholder", "account_holder", "billing_address", "shipping_address",
    "billing", "shipping", "contact", "contacts", "recipient", "buyer", "payer", "person", "profile", "member",
    "user", "guest", "consumer",
)  # fmt: skip


def default_identifiers() -> IdentifierRegistry:
    registry = IdentifierRegistry()
    registry.register(EMAIL, fields=("email", "mail", "e_mail"), suffixes=("email", "emailaddress"))
    registry.register(
        PHONE,
        fields=("phone", "tel", "telephone", "mobile_number", "msisdn", "cell_phone"),
        suffixes=("phone", "phonenumber"),
    )
    # Only fields that name a person's device MAC: beacons and gateways are store infrastructure and are
    # named by their own ids (a MAC under another field name is kept).
    registry.register(
        MAC,
        fields=(
            "mac",
            "mac_address",
            "macaddr",
            "wifi_mac",
            "bt_mac",
            "ble_mac",
            "bluetooth_mac",
            "bd_addr",
            "hw_addr",
            "device_mac",
            "phone_mac",
            "client_mac",
            "sta_mac",
        ),
    )
    # A shopper's phone: platform devices are named by the envelope's ``source``, so a ``device_id``
    # inside a payload is taken to be a person's device.
    registry.register(
        DEVICE,
        fields=(
            "device_id",
            "idfa",
            "idfv",
            "gaid",
            "aaid",
            "adid",
            "advertising_id",
            "ad_id",
            "android_id",
            "install_id",
            "installation_id",
            "app_instance_id",
            "push_token",
            "fcm_token",
            "apns_token",
        ),
    )
    registry.register(IP, fields=("ip", "ip_address", "ipaddr", "client_ip", "remote_ip", "remote_addr"))
    registry.register(
        CARD_FINGERPRINT, fields=("card_fingerprint", "payment_fingerprint"), suffixes=("cardfingerprint",)
    )
    registry.register(LOYALTY_ID, fields=("loyalty_id", "loyalty_number", "loyalty_card", "member_number"))
    registry.register(
        NAME,
        fields=(
            "first_name", "middle_name", "last_name", "full_name", "given_name", "family_name", "surname",
            "maiden_name", "customer_name", "shopper_name", "contact_name", "cardholder", "cardholder_name",
            "name_on_card", "holder_name", "account_holder_name", "billing_name", "shipping_name",
            "recipient_name", "buyer_name", "payer_name", "person_name",
        ),
        suffixes=("firstname", "lastname", "fullname", "givenname", "familyname", "holdername", "customername"),
        within={"name": PERSON_OBJECTS, "display_name": PERSON_OBJECTS, "nickname": PERSON_OBJECTS},
    )  # fmt: skip
    registry.register(
        FREE_TEXT,
        fields=(
            "note", "notes", "comment", "comments", "remark", "remarks", "memo", "free_text", "customer_note",
            "order_note", "delivery_note", "cashier_note", "staff_note", "internal_note", "special_instructions",
            "feedback_text",
        ),
        suffixes=("notes", "comment", "comments", "remarks"),
    )  # fmt: skip
    return registry


DEFAULT_IDENTIFIERS = default_identifiers()
