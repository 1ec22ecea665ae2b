"""``tradeoff coupons check-gs1`` and ``tradeoff coupons qr`` (kept with the coupon tests they exercise)."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import segno
from PIL import Image
from typer.testing import CliRunner

from tradeoff.cli import app

VALID = "(8112)061234567890121234569123456789012345"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["coupons", *args])
    return result.exit_code, result.stdout, result.stderr


def test_check_gs1_valid_json_exit_0() -> None:
    code, out, _ = run("check-gs1", VALID, "--json")
    body = orjson.loads(out)
    assert code == 0 and body["valid"] is True and body["reason"] is None
    assert body["fields"]["funder_id"] == "123456789012"


def test_check_gs1_invalid_json_exit_1_with_linter_reason() -> None:
    code, out, _ = run("check-gs1", "(8110)0123456123456111101233200431", "--json")
    body = orjson.loads(out)
    assert code == 1 and body["valid"] is False
    assert body["error"] == "GS1_LINTER_COUPON_INVALID_EXIPIRATION_DATE"
    assert body["reason"].startswith("GS1_LINTER_COUPON_INVALID_EXIPIRATION_DATE") and body["position"] == 22


def test_check_gs1_bare_value_with_ai_and_human_output() -> None:
    code, out, _ = run("check-gs1", "106141416543213500110000310123196000", "--ai", "8110")
    assert code == 0 and "0614141" in out and "opt3_expiration_date" in out
    code, _, err = run("check-gs1", "not a coupon")
    assert code == 1 and "ELEMENT_STRING_SYNTAX" in err


def test_qr_png_and_svg(tmp_path: Path) -> None:
    png = tmp_path / "coupon.png"
    code, out, _ = run("qr", "7K3M-Q9XD-2HBW", "--out", str(png), "--json")
    summary = orjson.loads(out)
    assert code == 0 and summary["version"] == 1 and summary["mode"] == "alphanumeric"
    image = Image.open(io.BytesIO(png.read_bytes()))
    assert image.format == "PNG" and image.size == ((21 + 8) * 8,) * 2
    svg = tmp_path / "coupon.svg"
    code, out, _ = run("qr", "https://example.com/c/7K3M", "--out", str(svg))
    assert code == 0 and "wrote" in out
    assert svg.read_bytes().startswith(b"<svg") and segno.make("https://example.com/c/7K3M").mode == "byte"


def test_qr_refuses_unknown_image_types(tmp_path: Path) -> None:
    code, _, err = run("qr", "ABCD", "--out", str(tmp_path / "c.gif"))
    assert code == 1 and ".svg or .png" in err
    assert not (tmp_path / "c.gif").exists()
