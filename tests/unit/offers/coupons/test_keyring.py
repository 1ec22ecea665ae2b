"""The coupon key comes from the tenant's keyring: stable per tenant, different across tenants."""

from __future__ import annotations

from pathlib import Path

from tradeoff.offers.coupons.codes import make_code, read_code
from tradeoff.offers.coupons.keyring import PURPOSE, coupon_key
from tradeoff.privacy.keys import LocalKeyProvider


def test_key_per_tenant_from_the_local_keyring(tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    first = coupon_key(keys=LocalKeyProvider(keyring), tenant_id="shop-a")
    again = coupon_key(keys=LocalKeyProvider(keyring), tenant_id="shop-a")  # another process, same file
    other = coupon_key(keys=LocalKeyProvider(keyring), tenant_id="shop-b")
    assert len(first) == 32 and first == again and first != other
    code = make_code(key=first, serial=99)
    assert read_code(key=again, code=code) == 99


def test_key_uses_its_own_purpose() -> None:
    class RecordingProvider:
        def __init__(self) -> None:
            self.calls: list[tuple[str, str, bytes]] = []

        def mac(self, tenant_id: str, purpose: str, data: bytes) -> bytes:
            self.calls.append((tenant_id, purpose, data))
            return bytes(32)

    provider = RecordingProvider()
    coupon_key(keys=provider, tenant_id="t1")  # type: ignore[arg-type]
    assert provider.calls == [("t1", PURPOSE, b"coupon-code-key/v1")] and PURPOSE == "coupon-codes"
