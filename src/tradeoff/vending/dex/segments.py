"""Lexing a DEX/EVA-DTS file into segments, keeping each segment's byte offsets for the G85 checksum.

Real captures carry junk around the data (a capture tool's ``<000|…|>`` header glued before ``DXS``,
``<AAAA|BBBB>`` after ``DXE``), stray control bytes (0x0C, 0x11) and Latin-1 text, with CRLF, LF or even
lone CR line ends. The bytes are decoded as Latin-1, which maps every byte to exactly one character, so a
character offset *is* a byte offset and the checksum can be computed on the original bytes later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A segment tag: two or three capital letters, then up to three digits (ST, SE, G85, ID1, CA15, DA10…).
_TAG = re.compile(r"[A-Z]{1,3}[0-9]{0,3}")
_SEGMENT_START = re.compile(r"[A-Z]{1,3}[0-9]{0,3}\*")
# C0 control bytes and DEL, except CR/LF (line ends) which are handled by the splitter.
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")
# A capture tool's bracketed annotation, e.g. ``<000|Operations|…|>`` or ``<AAAA|BBBB>``.
_CAPTURE_TAG = re.compile(r"<[^<>\r\n]*>")
_LINE = re.compile(r"([^\r\n]*)(\r\n|\n|\r)?")


@dataclass(frozen=True, slots=True)
class Segment:
    """One ``TAG*e1*e2…`` record. ``start``/``content_end``/``end`` are byte offsets into the raw input:
    where the tag begins, where the content ends (before the line end) and where the line end ends."""

    line: int
    tag: str
    elements: tuple[str, ...]
    start: int
    content_end: int
    end: int
    line_end: str  # "\r\n", "\n", "\r" or "" (last line without a line end)

    def element(self, position: int) -> str:
        """Element ``position`` (1-based, as in ``PA102`` = position 2) stripped; "" when absent."""
        if 1 <= position <= len(self.elements):
            return self.elements[position - 1].strip()
        return ""

    @property
    def name(self) -> str:
        return f"{self.tag} (line {self.line})"


@dataclass(frozen=True, slots=True)
class Junk:
    """Text that is not a segment. ``annotation``: only capture-tool ``<…>`` tags (and control bytes), which
    may sit anywhere; anything else between segments means the input is not (only) DEX."""

    line: int
    text: str
    annotation: bool


@dataclass(frozen=True, slots=True)
class Lexed:
    segments: tuple[Segment, ...]
    junk: tuple[Junk, ...]
    line_ends: frozenset[str]


def clean(text: str) -> str:
    """Remove control bytes (never meaningful inside DEX data)."""
    return _CONTROL.sub("", text)


def lex(data: bytes) -> Lexed:
    """Split ``data`` into segments and junk. Never raises: deciding what is malformed is the parser's job."""
    text = data.decode("latin-1")
    segments: list[Segment] = []
    junk: list[Junk] = []
    ends: set[str] = set()
    line_number = 0
    for match in _LINE.finditer(text):
        content, line_end = match.group(1), match.group(2) or ""
        if not content and not line_end:
            break  # the empty match at the very end
        line_number += 1
        if line_end:
            ends.add(line_end)
        segment = _segment(content, match.start(), line_number, line_end)
        if segment is None:
            if clean(content).strip():
                junk.append(_junk(line_number, content))
            continue
        if clean(text[match.start() : segment.start]).strip():
            junk.append(_junk(line_number, text[match.start() : segment.start]))
        segments.append(segment)
    return Lexed(tuple(segments), tuple(junk), frozenset(ends))


def _junk(line: int, raw: str) -> Junk:
    text = clean(raw).strip()
    return Junk(line, text, annotation=not _CAPTURE_TAG.sub("", text).strip())


def _segment(content: str, offset: int, line: int, line_end: str) -> Segment | None:
    """The segment on one line, after any capture-tool annotations and control bytes before it."""
    start = 0
    while True:
        while start < len(content) and (content[start].isspace() or _CONTROL.match(content, start)):
            start += 1
        annotation = _CAPTURE_TAG.match(content, start)
        if annotation is None:
            break
        start = annotation.end()
    body = clean(content[start:]).rstrip()
    tag_match = _TAG.match(body)
    if tag_match is None or not _is_tag_end(body, tag_match.end()):
        glued = content.find("DXS*", start)  # the envelope start glued to junk of another shape
        if glued < 0:
            return None
        start, body = glued, clean(content[glued:]).rstrip()
        tag_match = _TAG.match(body)
        if tag_match is None:
            return None
    tag = tag_match.group()
    rest = body[tag_match.end() :]
    if rest and not rest.startswith("*"):
        return None  # a word, not a tag: "TEXT…" or "DXSX"
    if not rest and not _is_lone_tag(tag):
        return None
    elements = tuple(rest[1:].split("*")) if rest else ()
    return Segment(
        line=line,
        tag=tag,
        elements=elements,
        start=offset + start,
        content_end=offset + len(content),
        end=offset + len(content) + len(line_end),
        line_end=line_end,
    )


def _is_tag_end(body: str, end: int) -> bool:
    return end == len(body) or body[end] == "*"


def _is_lone_tag(tag: str) -> bool:
    """A tag standing alone on its line is a segment with no elements only when it has a digit (``ID4``);
    a bare word of capitals (``OK``, ``END``) is not taken for one."""
    return any(ch.isdigit() for ch in tag)


def looks_like_segment(text: str) -> bool:
    return _SEGMENT_START.match(text) is not None
