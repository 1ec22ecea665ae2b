"""Wires store setup into the platform: the beacon-status processor and the ``/v1/sites/{site_id}/…`` API
(floor plan, beacons, gateways, and the installed zone model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeoff.presence.setup.status import BeaconStatusProcessor

if TYPE_CHECKING:
    from tradeoff.platform.container import Platform


def register(platform: Platform) -> None:
    from tradeoff.presence.setup import api, zone_model_api

    platform.bus.register(BeaconStatusProcessor())
    platform.routers.append(api.router)
    platform.routers.append(zone_model_api.router)
