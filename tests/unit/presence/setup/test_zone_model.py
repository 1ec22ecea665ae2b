"""Model documents for installation: loaded, bounded, and refused with the field named when they are not
models (the storage, API and live use are in tests/integration/presence/test_zone_model.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest

from tradeoff.core.errors import InvalidInput
from tradeoff.presence.model import calibration
from tradeoff.presence.setup import zone_model


def document() -> dict[str, Any]:
    scans = np.array([[-60.0, -80.0], [-61.0, -79.0], [-80.0, -60.0], [-81.0, -200.0]])
    store = calibration.calibrate(scans, np.array(["dairy", "dairy", "bakery", "bakery"]), ("b1", "b2"))
    return calibration.to_dict(store)


def test_a_document_dict_text_or_bytes_loads() -> None:
    for form in (document(), orjson.dumps(document()), orjson.dumps(document()).decode()):
        store = zone_model.parse_model(form)
        assert store.beacons == ("b1", "b2") and list(store.model.classes_) == ["bakery", "dairy"]


@pytest.mark.parametrize(
    "broken",
    [
        {"format": "pickle"},
        {"format": "tradeoff-presence-model", "version": 1},
        {"params": {"bandwidth_db": 1.0, "nonsense": 2}},
        {"fingerprints": "not rows"},
        {"classes_of_fingerprints": [0, 0, 7, 7]},
        {"beacons": []},
        {"beacons": ["b1", "b1"]},
    ],
)
def test_what_is_not_a_model_is_invalid_input_on_the_model_field(broken: dict[str, Any]) -> None:
    body = broken if "format" in broken else {**document(), **broken}
    with pytest.raises(InvalidInput) as caught:
        zone_model.parse_model(body)
    assert caught.value.details["field"] == "model"
    with pytest.raises(InvalidInput):
        zone_model.parse_model(42)


def test_models_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zone_model, "MAX_FINGERPRINTS", 3)
    with pytest.raises(InvalidInput, match="at most 3"):
        zone_model.parse_model(document())
    with pytest.raises(InvalidInput, match="at most 3"):
        zone_model.parse_model(orjson.dumps(document()))
