"""The privacy core as one capability: one key provider shared by the vault, the ingress gate and the
audit trail; the erasure ledger replayed at start; the release guard for merchant-facing numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradeoff.core.clock import SystemClock
from tradeoff.privacy.audit import AuditCheckpointer, AuditTrail
from tradeoff.privacy.consent import capability as consent_capability
from tradeoff.privacy.dsr.erase import erasure_hook  # noqa: F401  (registered before the replay below)
from tradeoff.privacy.gate import PrivacyGate
from tradeoff.privacy.keys import KeyProvider
from tradeoff.privacy.release import ReleaseConfig, ReleaseGuard
from tradeoff.privacy.vault import capability as vault_capability
from tradeoff.privacy.vault.config import build_key_provider
from tradeoff.privacy.vault.service import Vault

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform

EXTENSION = "privacy"


@dataclass(frozen=True)
class PrivacyServices:
    keys: KeyProvider
    vault: Vault
    gate: PrivacyGate
    audit: AuditTrail
    release_guard: ReleaseGuard


def register(platform: Platform) -> PrivacyServices:
    keys = build_key_provider(platform.settings)
    vault = vault_capability.register(platform, provider=keys)
    gate = consent_capability.register(platform, keys=keys)
    audit = AuditTrail.from_settings(platform.settings, keys=keys)
    from tradeoff.privacy.dsr import api as dsr_api

    platform.routers.append(dsr_api.router)
    guard = ReleaseGuard(
        platform.app_engine, SystemClock(), ReleaseConfig.from_settings(platform.settings), audit=audit
    )
    platform.services.append(AuditCheckpointer(audit, platform.engine))  # reads across tenants: owner engine
    services = PrivacyServices(keys=keys, vault=vault, gate=gate, audit=audit, release_guard=guard)
    platform.extensions[EXTENSION] = services
    return services


def privacy_of(platform: Platform) -> PrivacyServices:
    services = platform.extensions.get(EXTENSION)
    if not isinstance(services, PrivacyServices):
        raise RuntimeError("the privacy capability is not registered on this platform")
    return services
