"""Plan images: the bytes decide the type; scripts in SVG are never trusted."""

from __future__ import annotations

import pytest

from tradeoff.core.errors import InvalidInput, TooLarge
from tradeoff.presence.setup.image import IMAGE_HEADERS, MAX_IMAGE_BYTES, sniff


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....JFIF", "image/jpeg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        (b'\xef\xbb\xbf<?xml version=\'1.0\'?>\n<!-- drawn --><!DOCTYPE svg PUBLIC "x" "y">\n<svg>', "image/svg+xml"),
    ],
)
def test_sniffed_types(data: bytes, content_type: str) -> None:
    assert sniff(data) == content_type


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GIF89a....",
        b"<html><svg></svg></html>",
        b"<svgfoo>",
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]><svg>&a;</svg>',
        b"\xff\xfe<\x00s\x00",
    ],
)
def test_other_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        sniff(data)


def test_size_limit() -> None:
    with pytest.raises(TooLarge):
        sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_IMAGE_BYTES)


def test_served_images_are_sandboxed() -> None:
    policy = IMAGE_HEADERS["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script" not in policy
    assert IMAGE_HEADERS["X-Content-Type-Options"] == "nosniff"
