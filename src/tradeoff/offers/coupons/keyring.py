"""Where a tenant's coupon-code key comes from: the platform's key provider, never the database.

The provider computes per-tenant, per-purpose HMACs without handing out its root keys; the coupon key
is one such MAC (purpose ``coupon-codes``) over a fixed label, i.e. an HKDF-Expand-style derivation
from the tenant's MAC root. It is deterministic, so every process and a restored backup derive the
same key, and codes stay verifiable for as long as the tenant's keyring lives.
"""

from __future__ import annotations

from tradeoff.privacy.keys import KeyProvider

PURPOSE = "coupon-codes"
_LABEL = b"coupon-code-key/v1"


def coupon_key(*, keys: KeyProvider, tenant_id: str) -> bytes:
    """The 32-byte key ``codes.make_code``/``read_code`` take for ``tenant_id``."""
    return keys.mac(tenant_id, PURPOSE, _LABEL)
