"""QR images: produced as SVG and PNG, and the symbol drawn is the one segno makes for the payload."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import segno
from PIL import Image

from tradeoff.core.errors import InvalidInput
from tradeoff.offers.coupons.codes import make_code
from tradeoff.offers.coupons.qr import qr_bytes, qr_symbol

CODE = make_code(key=bytes(32), serial=42)
URL = f"https://coupons.example.com/c/{CODE}"


def test_code_uses_the_smallest_alphanumeric_symbol() -> None:
    symbol = qr_symbol(CODE)
    assert (symbol.version, symbol.mode) == (1, "alphanumeric")
    assert symbol.error in ("M", "Q", "H")  # at least M; boosted when it still fits version 1
    assert symbol.matrix == segno.make(CODE, error="m", micro=False).matrix


def test_url_uses_byte_mode() -> None:
    symbol = qr_symbol(URL)
    assert symbol.mode == "byte" and symbol.version not in (1, "M1", "M2", "M3", "M4")
    assert symbol.matrix == segno.make(URL, error="m", micro=False).matrix


@pytest.mark.parametrize("payload", [CODE, URL])
def test_png_pixels_are_the_symbol(payload: str) -> None:
    scale, border = 4, 4
    image = Image.open(io.BytesIO(qr_bytes(payload, kind="png", scale=scale, border=border))).convert("L")
    matrix = qr_symbol(payload).matrix
    size = len(matrix)
    assert image.size == ((size + 2 * border) * scale,) * 2
    for row in range(size):
        for col in range(size):
            pixel = image.getpixel(((col + border) * scale + scale // 2, (row + border) * scale + scale // 2))
            assert (pixel == 0) == bool(matrix[row][col]), (row, col)


def test_svg_is_an_svg_of_the_right_size() -> None:
    data = qr_bytes(CODE, kind="svg", scale=10, border=4)
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == root.get("height") == str((21 + 8) * 10)
    expected = io.BytesIO()
    qr_symbol(CODE).save(expected, kind="svg", scale=10, border=4, xmldecl=False)
    assert data == expected.getvalue()


@pytest.mark.parametrize(
    ("payload", "kwargs", "field"),
    [
        ("", {}, "payload"),
        ("x" * 1025, {}, "payload"),
        ("a\nb", {}, "payload"),
        (CODE, {"kind": "gif"}, "kind"),
        (CODE, {"scale": 0}, "scale"),
        (CODE, {"border": -1}, "border"),
    ],
)
def test_bad_requests_say_what(payload: str, kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"kind": "png", **kwargs}
    with pytest.raises(InvalidInput) as excinfo:
        qr_bytes(payload, **args)  # type: ignore[arg-type]
    assert excinfo.value.field == field
