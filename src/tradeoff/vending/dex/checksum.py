"""Verifying the G85 checksum on the raw bytes.

The CRC covers the bytes from the ``S`` of ``ST*`` up to the byte before ``G85``, i.e. including the line
end of the segment before G85 ("incl", the standard). One N&W machine leaves that last line end out
("excl"). Files re-saved with LF line ends only verify once their line ends are CRLF again, as on the
wire. A mismatch is a warning, never a rejection: fleets run with bad checksums.
"""

from __future__ import annotations

import re

from tradeoff.vending.dex.crc import crc16_arc, format_g85, parse_g85
from tradeoff.vending.dex.model import Checksum, CrcVariant
from tradeoff.vending.dex.segments import Segment
from tradeoff.vending.dex.values import Values

_LINE_END = re.compile(rb"\r\n|\r|\n")


def verify(data: bytes, segments: list[Segment], values: Values) -> Checksum:
    """Check the first G85 of ``segments`` (the envelope's segments in order) against ``data``."""
    g85_index = next((i for i, segment in enumerate(segments) if segment.tag == "G85"), None)
    if g85_index is None:
        return Checksum(present=False, valid=None, variant=None, stated=None, computed=None)
    g85 = segments[g85_index]
    stated_text = g85.element(1)
    stated = parse_g85(stated_text)
    st = next((segment for segment in segments[:g85_index] if segment.tag == "ST"), None)
    if stated is None:
        values.warn(g85, f"G8501 {stated_text[:20]!r} is not a 4-digit hex checksum; not verified")
        return Checksum(present=True, valid=False, variant=None, stated=stated_text or None, computed=None)
    if st is None or g85_index == 0:
        values.warn(g85, "G85 without a preceding ST segment; checksum not verified")
        return Checksum(present=True, valid=False, variant=None, stated=stated_text, computed=None)
    previous = segments[g85_index - 1]
    incl = data[st.start : previous.end]
    excl = data[st.start : previous.content_end]
    wire_excl = _LINE_END.sub(b"\r\n", excl)
    wire_incl = wire_excl + (b"\r\n" if previous.line_end else b"")
    normalized = False
    variant = _match(stated, incl, excl)
    if variant is None and (wire_excl != excl or wire_incl != incl):
        variant = _match(stated, wire_incl, wire_excl)
        normalized = variant is not None
        incl, excl = wire_incl, wire_excl
    computed = format_g85(crc16_arc(excl if variant == "excl" else incl))
    if variant is None:
        values.warn(g85, f"G85 checksum mismatch: stated {stated_text}, computed {computed}")
    return Checksum(
        present=True,
        valid=variant is not None,
        variant=variant,
        stated=stated_text,
        computed=computed,
        line_ends_normalized=normalized,
    )


def _match(stated: int, incl: bytes, excl: bytes) -> CrcVariant | None:
    if crc16_arc(incl) == stated:
        return "incl"
    if crc16_arc(excl) == stated:
        return "excl"
    return None
