"""The campaign editor and the segment catalogue: the catalogue's segments are shown as the audience's
choices, and a segment outside it is refused next to the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.unit.web.test_offers_pages import Seed, editor_form, seed  # noqa: F401  (the fixture)
from tradeoff.offers import service
from tradeoff.offers.segments.service import SegmentIn, replace_catalogue
from tradeoff.platform.db.engine import write_transaction


def _catalogue(world: Seed, *keys: str) -> None:
    segments = [SegmentIn(key=key, label=key.title()) for key in keys]
    with write_transaction(world.engine) as conn:
        replace_catalogue(conn, tenant_id=world.tenant, segments=segments, now=datetime.now(UTC))


def test_the_editor_offers_the_catalogue_and_refuses_other_segments(seed: Seed) -> None:  # noqa: F811
    assert "No segments defined yet" in seed.client.get("/campaigns/new").text
    _catalogue(seed, "organic", "vegan")
    assert "Choose from: organic (Organic), vegan (Vegan)." in seed.client.get("/campaigns/new").text

    response = seed.client.post("/campaigns/new", data=editor_form(seed, **{"audience.segments": "organic, halal"}))
    assert response.status_code == 422
    errors = dict(re.findall(r'data-error-for="([^"]+)">([^<]+)<', response.text))
    assert "&#39;halal&#39; not in the segment catalogue" in errors["audience.segments"]

    saved = seed.client.post(
        "/campaigns/new", data=editor_form(seed, **{"audience.segments": "organic"}), follow_redirects=False
    )
    assert saved.status_code == 303
    campaign_id = saved.headers["location"].rsplit("/", 1)[1]
    with seed.engine.connect() as conn:
        spec = service.get_campaign(conn, tenant_id=seed.tenant, campaign_id=campaign_id).spec
    assert spec.audience.segments == ("organic",)
