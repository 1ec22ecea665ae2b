"""Every GS1 coupon vector in ../shared/data/pos/gs1_coupons gives the reference linter's verdict."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.shared_data import shared_data
from tradeoff.offers.coupons.gs1 import check_value
from tradeoff.offers.coupons.gs1_scan import GcpStatus

DATA = shared_data("pos", "gs1_coupons")
GCP_ERRORS = {
    "GS1_LINTER_INVALID_GCP_PREFIX": GcpStatus.INVALID,
    "GS1_LINTER_GCP_DATASOURCE_OFFLINE": GcpStatus.OFFLINE,
}


def _load(name: str) -> dict[str, Any]:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _vectors(ai: str) -> list[Any]:
    path = DATA / f"ai{ai}_lint_vectors.json"
    if not path.exists():
        return [pytest.param(None, id="vectors-missing")]
    return [
        pytest.param(v, id=f"{i}-{v['data'] or 'empty'}") for i, v in enumerate(json.loads(path.read_text())["vectors"])
    ]


def _gcp_count(value: str) -> int:
    """How many company prefixes the value carries (the ones a lookup service is asked about)."""
    result = check_value("8110", value)
    assert result.valid, result.reason
    keys = ("gcp", "opt1_2nd_gcp", "opt2_3rd_gcp", "opt6_retailer_gcp_or_gln")
    return sum(key in result.fields for key in keys)


class CountdownLookup:
    """The reference unit tests' mock register: ``countdown`` lookups succeed, then ``status`` is answered."""

    def __init__(self, countdown: int, status: GcpStatus) -> None:
        self.countdown, self.status = countdown, status
        self.asked: list[str] = []

    def __call__(self, gcp: str) -> GcpStatus:
        self.asked.append(gcp)
        if self.countdown > 0:
            self.countdown -= 1
            return GcpStatus.VALID
        return self.status


def _check(ai: str, vector: dict[str, Any] | None) -> None:
    if vector is None:
        pytest.skip("GS1 vectors are not on this machine")
    value, error = vector["data"], vector["error"]
    lookup = None
    if error in GCP_ERRORS:
        # These vectors come from runs with a mock register that fails the last prefix looked up.
        lookup = CountdownLookup(_gcp_count(value) - 1, GCP_ERRORS[error])
    result = check_value(ai, value, gcp_lookup=lookup)
    assert result.valid is vector["valid"], (value, result.error, result.reason)
    if vector["valid"]:
        assert result.error is None and result.fields
    else:
        assert result.error == error, (value, result.reason)
        assert result.reason is not None and result.reason.startswith(error)
        assert result.position is not None and 0 <= result.position <= len(value)
        assert not result.fields


@pytest.mark.parametrize("vector", _vectors("8110"))
def test_ai8110_lint_vector(vector: dict[str, Any] | None) -> None:
    _check("8110", vector)


@pytest.mark.parametrize("vector", _vectors("8112"))
def test_ai8112_lint_vector(vector: dict[str, Any] | None) -> None:
    _check("8112", vector)


def test_vector_files_cover_both_verdicts() -> None:
    for ai, minimum in (("8110", 250), ("8112", 30)):
        vectors = _load(f"ai{ai}_lint_vectors.json")["vectors"]
        assert len(vectors) >= minimum
        assert {v["valid"] for v in vectors} == {True, False}


def test_worked_examples_decode_to_the_documented_fields() -> None:
    examples = _load("ai8110_worked_examples.json")["examples"]
    assert len(examples) == 2
    for example in examples:
        result = check_value(example["ai"], example["value"])
        assert result.valid, result.reason
        for name, expected in example["fields"].items():
            assert result.fields[name] == expected, name
        # Nothing decoded beyond the documented fields, except the dates spelled out in ISO form.
        assert set(result.fields) - set(example["fields"]) == {"opt3_expiration_date"}


def test_worked_example_dates_are_real_dates() -> None:
    result = check_value("8110", "1061414165432132501101203140131")
    assert result.fields["opt3_expiration_date"] == "2014-01-31"
