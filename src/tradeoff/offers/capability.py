"""The offers capability: the decision processor (presence signals → coupons) and the offers API.

Needs the privacy capability registered before it (one key provider: pseudonyms, coupon codes and the
holdout key all come from it) and the presence capability for the signals it consumes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeoff.offers.processor import OffersProcessor, PseudonymResolver, holdout_key_of
from tradeoff.offers.segments.service import ReleasedSegments
from tradeoff.privacy.capability import privacy_of

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform


def register(platform: Platform) -> None:
    from tradeoff.offers import api
    from tradeoff.offers.segments import api as segments_api

    privacy = privacy_of(platform)
    resolver = PseudonymResolver(privacy.gate.pseudonyms)  # one index: the segments resolver reuses it
    processor = OffersProcessor(
        resolver=resolver,
        holdout_key=holdout_key_of(privacy.keys),
        segments=ReleasedSegments(vault=privacy.vault, subjects=resolver, clock=platform.pipeline.clock),
        clock=platform.pipeline.clock,
    )
    platform.bus.register(processor)
    platform.routers.append(api.router)
    platform.routers.append(segments_api.router)
