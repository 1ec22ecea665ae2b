"""Delivery settings and the services the capability shares (``delivery_of(platform)``).

Read from the environment until they join ``platform.settings``:
``TRADEOFF_WEBHOOKS_ENABLED`` (default true: the sender runs), ``TRADEOFF_WEBHOOKS_ALLOW_HTTP`` (default
false: endpoints must be public https URLs; true for local development and tests),
``TRADEOFF_WEBHOOKS_MAX_ATTEMPTS`` (default 8), ``TRADEOFF_WEBHOOKS_BASE_SECONDS`` (default 5).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from tradeoff.offers.delivery.retry import RetryPolicy
from tradeoff.offers.delivery.sender import OfferSender, SenderConfig

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform

EXTENSION = "offers.delivery"


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    enabled: bool = True
    allow_http: bool = False
    sender: SenderConfig = field(default_factory=SenderConfig)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeliveryConfig:
        env = os.environ if env is None else env
        retry = RetryPolicy(
            max_attempts=int(env.get("TRADEOFF_WEBHOOKS_MAX_ATTEMPTS", "8")),
            base=timedelta(seconds=float(env.get("TRADEOFF_WEBHOOKS_BASE_SECONDS", "5"))),
        )
        return cls(
            enabled=_flag(env, "TRADEOFF_WEBHOOKS_ENABLED", True),
            allow_http=_flag(env, "TRADEOFF_WEBHOOKS_ALLOW_HTTP", False),
            sender=SenderConfig(retry=retry),
        )


@dataclass(frozen=True, slots=True)
class DeliveryServices:
    config: DeliveryConfig
    sender: OfferSender


def delivery_of(platform: Platform) -> DeliveryServices:
    services = platform.extensions.get(EXTENSION)
    if not isinstance(services, DeliveryServices):
        raise RuntimeError("the offer delivery capability is not registered on this platform")
    return services
