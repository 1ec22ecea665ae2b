"""Offer delivery as a capability: the webhook sender (a background service), the app's pull API, the
webhook admin API and the shopper's wallet page.

Register after ``privacy`` and ``offers`` (it shares their key provider and reads the offers outbox).
The wallet page is installed by ``web.wallet.install`` from the dashboard's ``PAGES``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeoff.offers.delivery.config import EXTENSION, DeliveryConfig, DeliveryServices
from tradeoff.offers.delivery.sender import OfferSender
from tradeoff.offers.processor import PseudonymResolver
from tradeoff.privacy.capability import privacy_of

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform


def register(platform: Platform, *, config: DeliveryConfig | None = None) -> DeliveryServices:
    from tradeoff.offers.delivery import admin_api, api

    config = config or DeliveryConfig.from_env()
    privacy = privacy_of(platform)
    sender = OfferSender(
        platform.engine,  # claims across tenants: the owner engine, like processors
        keys=privacy.keys,
        resolver=PseudonymResolver(privacy.gate.pseudonyms),
        clock=platform.pipeline.clock,
        config=config.sender,
    )
    if config.enabled:
        platform.services.append(sender)
    platform.routers.extend([api.router, admin_api.router])
    services = DeliveryServices(config=config, sender=sender)
    platform.extensions[EXTENSION] = services
    return services
