"""Store setup: the floor plan, zones, beacons and gateway placements a merchant draws, and each
beacon's last sighting and battery (fed by ``presence.sighting`` events)."""
