"""Never crash on any bytes: random input and mutated real samples give a ``DexAudit`` or a ``DexError``."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.vending.dex.samples import all_samples
from tradeoff.vending.dex import DexAudit, DexError, parse_dex

SAMPLES = [path.read_bytes() for path in all_samples()]
_FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _outcome(data: bytes) -> DexAudit | DexError:
    try:
        audit = parse_dex(data)
    except DexError as exc:
        assert str(exc).startswith("line ")
        return exc
    orjson.dumps(audit.to_json())  # always serializable
    return audit


@_FAST
@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    _outcome(data)


_DEXISH = st.lists(
    st.one_of(
        st.sampled_from(["DXS", "ST", "ID1", "ID4", "ID5", "VA1", "PA1", "PA2", "PA7", "EA3", "G85", "SE", "DXE"]),
        st.text(alphabet="*0123456789ABx \r\n\x00\x11<>|", max_size=12),
    ),
    max_size=60,
).map(lambda parts: "*".join(parts).encode("latin-1"))


@_FAST
@given(_DEXISH)
def test_dex_like_token_soup(data: bytes) -> None:
    _outcome(data)


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        at = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        elif kind == "delete":
            del data[at : at + draw(st.integers(min_value=1, max_value=40))]
        elif kind == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(min_value=1, max_value=200))]
    return bytes(data)


@_FAST
@given(mutated_sample())
def test_mutated_real_samples(data: bytes) -> None:
    _outcome(data)


@given(st.sampled_from(SAMPLES), st.integers(min_value=0, max_value=8000))
@_FAST
def test_every_prefix_of_a_sample_is_an_audit_or_a_clear_error(data: bytes, cut: int) -> None:
    outcome = _outcome(data[: cut % (len(data) + 1)])
    if isinstance(outcome, DexAudit) and cut % (len(data) + 1) < len(data) - 20:
        assert outcome.truncated or not outcome.checksum.valid or outcome.checksum.present is False
