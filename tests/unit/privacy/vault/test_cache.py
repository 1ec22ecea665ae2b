"""The unwrapped-key cache is bounded, expires, and forgets a shredded subject."""

from __future__ import annotations

from tradeoff.privacy.vault.cache import KeyCache


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lru_bound() -> None:
    cache = KeyCache(max_subjects=2, ttl=60)
    for name in ("a", "b", "c"):
        cache.put("t", name, 1, name.encode() * 32, latest=True)
    assert len(cache) == 2
    assert cache.latest("t", "a") is None
    assert cache.latest("t", "c") == (1, b"c" * 32)


def test_recently_used_survives() -> None:
    cache = KeyCache(max_subjects=2, ttl=60)
    cache.put("t", "a", 1, b"a" * 32, latest=True)
    cache.put("t", "b", 1, b"b" * 32, latest=True)
    assert cache.latest("t", "a") is not None
    cache.put("t", "c", 1, b"c" * 32, latest=True)
    assert cache.latest("t", "a") is not None
    assert cache.latest("t", "b") is None


def test_ttl_expiry() -> None:
    clock = Ticker()
    cache = KeyCache(max_subjects=10, ttl=5, clock=clock)
    cache.put("t", "a", 1, b"k" * 32, latest=True)
    clock.now = 4.9
    assert cache.version("t", "a", 1) == b"k" * 32
    clock.now = 5.0
    assert cache.version("t", "a", 1) is None


def test_latest_only_from_encryption_path() -> None:
    cache = KeyCache(max_subjects=10, ttl=60)
    cache.put("t", "a", 3, b"3" * 32, latest=False)
    assert cache.latest("t", "a") is None
    cache.put("t", "a", 2, b"2" * 32, latest=True)
    cache.put("t", "a", 1, b"1" * 32, latest=True)
    assert cache.latest("t", "a") == (2, b"2" * 32)


def test_drop_subject_forgets_keys_and_unwraps() -> None:
    cache = KeyCache(max_subjects=10, ttl=60)
    cache.put("t", "a", 1, b"k" * 32, latest=True)
    cache.remember_unwrap("t", b"blob-a", b"k" * 32)
    cache.remember_unwrap("t", b"blob-old", b"k" * 32)  # same key under a blob we no longer know
    cache.remember_unwrap("t", b"blob-b", b"o" * 32)
    cache.drop_subject("t", "a", [b"blob-a"])
    assert cache.latest("t", "a") is None
    assert cache.unwrapped("t", b"blob-a") is None
    assert cache.unwrapped("t", b"blob-old") is None
    assert cache.unwrapped("t", b"blob-b") == b"o" * 32


def test_size_zero_disables_caching() -> None:
    cache = KeyCache(max_subjects=0, ttl=60)
    cache.put("t", "a", 1, b"k" * 32, latest=True)
    cache.remember_unwrap("t", b"blob", b"k" * 32)
    assert cache.latest("t", "a") is None
    assert cache.unwrapped("t", b"blob") is None
