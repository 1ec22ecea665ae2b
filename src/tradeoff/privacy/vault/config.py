"""Building the vault from ``TRADEOFF_*`` settings: which key provider, where the erasure ledger lives,
how big and how fresh the key cache is. (Read here so ``platform/settings.py`` need not know them.)"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine

from tradeoff.platform.settings import Settings
from tradeoff.privacy.keys import KeyProvider, LocalKeyProvider
from tradeoff.privacy.vault.erasure_ledger import ErasureLedger
from tradeoff.privacy.vault.service import Vault
from tradeoff.privacy.vault.vault_transit import VaultTransitKeyProvider, token_from_file


class VaultSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADEOFF_", env_file=None, extra="ignore")

    key_provider: Literal["local", "vault-transit"] = Field(
        default="local", description="local: keyring file (TRADEOFF_KEYRING_PATH); vault-transit: HashiCorp Vault"
    )
    vault_addr: str = Field(default="", description="e.g. https://vault.internal:8200")
    vault_token: SecretStr = Field(default=SecretStr(""), description="a Vault token (prefer the token file)")
    vault_token_file: Path | None = Field(default=None, description="token file kept fresh by Vault Agent")
    vault_namespace: str = Field(default="", description="X-Vault-Namespace (Vault Enterprise / HCP)")
    vault_transit_mount: str = "transit"
    vault_key_prefix: str = "tradeoff-"
    vault_timeout_seconds: float = 10.0
    vault_ca_cert: Path | None = Field(default=None, description="CA bundle for Vault's TLS certificate")
    erasure_ledger_path: Path | None = Field(
        default=None, description="default: erasures.log next to the keyring; never inside database backups"
    )
    dek_cache_size: int = Field(default=10_000, ge=0, description="subjects whose unwrapped keys stay in memory")
    dek_cache_ttl_seconds: float = Field(
        default=60.0, ge=0, description="how long another process may use a key after this one shredded it"
    )


def build_key_provider(settings: Settings, vault_settings: VaultSettings | None = None) -> KeyProvider:
    config = vault_settings or VaultSettings()
    if config.key_provider == "local":
        return LocalKeyProvider(settings.keyring_path)
    token = (
        token_from_file(config.vault_token_file)
        if config.vault_token_file is not None
        else config.vault_token.get_secret_value()
    )
    return VaultTransitKeyProvider(
        config.vault_addr,
        token,
        mount=config.vault_transit_mount,
        key_prefix=config.vault_key_prefix,
        namespace=config.vault_namespace,
        timeout=config.vault_timeout_seconds,
        verify=ssl.create_default_context(cafile=str(config.vault_ca_cert)) if config.vault_ca_cert else True,
    )


def ledger_path(settings: Settings, vault_settings: VaultSettings | None = None) -> Path:
    config = vault_settings or VaultSettings()
    return config.erasure_ledger_path or settings.keyring_path.parent / "erasures.log"


def build_vault(
    settings: Settings,
    engine: Engine,
    *,
    provider: KeyProvider | None = None,
    vault_settings: VaultSettings | None = None,
) -> Vault:
    config = vault_settings or VaultSettings()
    provider = provider or build_key_provider(settings, config)
    return Vault(
        engine,
        provider,
        ledger=ErasureLedger(ledger_path(settings, config), provider),
        cache_size=config.dek_cache_size,
        cache_ttl=config.dek_cache_ttl_seconds,
    )
