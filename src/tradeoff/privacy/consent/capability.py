"""Wiring of the privacy core into the platform: the ingress gate and the shopper-facing API.

``register(platform)`` is the capability entry for ``platform.container.CAPABILITIES``; it must run before
any other capability adds a gate, so every other gate sees events already scrubbed and pseudonymized.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tradeoff.privacy.consent.cache import ConsentCache
from tradeoff.privacy.keys import KeyProvider, LocalKeyProvider
from tradeoff.privacy.subjects.pseudonyms import Pseudonymizer

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform
    from tradeoff.privacy.gate import PrivacyGate

_providers: dict[Path, LocalKeyProvider] = {}
_providers_lock = threading.Lock()


def shared_local_provider(path: Path) -> LocalKeyProvider:
    """One ``LocalKeyProvider`` per keyring file in this process: two would each create missing tenant keys
    and overwrite each other's file, and pseudonyms would stop matching."""
    resolved = path.resolve()
    with _providers_lock:
        provider = _providers.get(resolved)
        if provider is None:
            provider = _providers[resolved] = LocalKeyProvider(resolved)
        return provider


def register(platform: Platform, *, keys: KeyProvider | None = None, consent_ttl_seconds: float = 0.0) -> PrivacyGate:
    """Add the privacy gate to the ingest pipeline and the ``/v1/me`` router; returns the gate.

    Idempotent: a platform that already has the gate keeps it (a second gate would take the first one's
    pseudonyms for subject ids and drop every shopper event)."""
    from tradeoff.privacy import me_api
    from tradeoff.privacy.gate import PrivacyGate

    existing = next((gate for gate in platform.pipeline.gates if isinstance(gate, PrivacyGate)), None)
    if existing is not None:
        return existing
    provider = keys or getattr(platform, "keys", None) or shared_local_provider(platform.settings.keyring_path)
    gate = PrivacyGate(
        consent=ConsentCache(platform.engine, ttl_seconds=consent_ttl_seconds),
        pseudonyms=Pseudonymizer(provider),
        clock=platform.pipeline.clock,
    )
    platform.pipeline.add_gate(gate)
    platform.routers.append(me_api.router)
    return gate
