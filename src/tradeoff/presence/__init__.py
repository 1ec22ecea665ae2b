"""Presence: BLE frames and gateway dialects → sightings → zones, dwell, visits and journeys."""
