"""A minimal client of ``/v1/me/offers``, as the shopper's app uses it: list, long-poll, receipts.

For tests (the end-to-end path from a gateway's MQTT message to an offer fetched by the app), the
simulator and as a reference for app developers. Synchronous ``httpx``; the caller owns the client.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

PATH = "/v1/me/offers"


@dataclass
class OfferFeed:
    """The offers of the shopper an app token speaks for; ``cursor`` follows what was seen."""

    client: httpx.Client  # base_url = the server
    app_token: str
    cursor: int | None = None

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.app_token}"}

    def offers(self) -> list[dict[str, Any]]:
        """The current offers (and move the cursor to the newest)."""
        response = self.client.get(PATH, headers=self._auth)
        response.raise_for_status()
        doc: dict[str, Any] = response.json()
        self.cursor = int(doc["cursor"])
        offers: list[dict[str, Any]] = doc["offers"]
        return offers

    def wait_for_new(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Long-poll until an offer newer than the cursor exists (``[]`` after ``timeout`` seconds);
        returns the new offers only."""
        if self.cursor is None:
            self.offers()
        seen = self.cursor or 0
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            wait = max(1, min(30, int(remaining)))
            params = {"wait": wait, "after": seen}
            response = self.client.get(PATH, headers=self._auth, params=params, timeout=wait + 10)
            response.raise_for_status()
            doc = response.json()
            if int(doc["cursor"]) > seen:
                self.cursor = int(doc["cursor"])
                return [o for o in doc["offers"] if int(o["cursor"]) > seen]
        return []

    def receipt(self, coupon_id: str, milestone: str) -> dict[str, Any]:
        """Report ``displayed`` or ``opened``."""
        response = self.client.post(f"{PATH}/{coupon_id}/{milestone}", headers=self._auth)
        response.raise_for_status()
        doc: dict[str, Any] = response.json()
        return doc

    def qr_svg(self, coupon_id: str) -> bytes:
        response = self.client.get(f"{PATH}/{coupon_id}/qr.svg", headers=self._auth)
        response.raise_for_status()
        return response.content
