"""The offers capability: the decision processor (presence signals → coupons) and the offers API.

Needs the privacy capability registered before it (one key provider: pseudonyms, coupon codes and the
holdout key all come from it) and the presence capability for the signals it consumes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeoff.offers.processor import OffersProcessor, PseudonymResolver, holdout_key_of
from tradeoff.privacy.capability import privacy_of

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform


def register(platform: Platform) -> None:
    from tradeoff.offers import api

    privacy = privacy_of(platform)
    processor = OffersProcessor(
        resolver=PseudonymResolver(privacy.gate.pseudonyms),
        holdout_key=holdout_key_of(privacy.keys),
        clock=platform.pipeline.clock,
    )
    platform.bus.register(processor)
    platform.routers.append(api.router)
