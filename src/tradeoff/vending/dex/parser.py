"""``parse_dex``: raw DEX/EVA-DTS bytes → ``DexAudit``.

Lenient where real machines are sloppy (junk around the data, control bytes, missing or wrong checksum,
truncation, non-numeric values: warnings), strict where the input is not an audit at all (``DexError``).
"""

from __future__ import annotations

from bisect import bisect_left

from tradeoff.vending.dex.checksum import verify
from tradeoff.vending.dex.columns import group_columns
from tradeoff.vending.dex.errors import DexError
from tradeoff.vending.dex.model import (
    ControlBoard,
    Counter,
    DexAudit,
    EventCounter,
    Machine,
    MachineEvent,
    Reads,
)
from tradeoff.vending.dex.segments import Lexed, Segment, lex
from tradeoff.vending.dex.values import Values

# Segments only a DEX audit has: at least one must be present for the input to count as one.
MAX_WARNINGS = 100
MAX_GARBAGE_LINES = 3  # non-segment lines inside an audit skipped as line noise (or 1 in 20 segments)
AUDIT_TAGS = frozenset({"DXS", "ST", "ID1", "VA1", "PA1", "CA2", "DA2", "EA3", "G85"})


def parse_dex(data: bytes) -> DexAudit:
    """Parse one audit. Raises ``DexError`` only when ``data`` holds no audit; everything else is a warning."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse_dex takes bytes, not {type(data).__name__}")
    data = bytes(data)
    lexed = lex(data)
    values = Values()
    segments = _envelope(lexed, values)
    first = {segment.tag: segment for segment in reversed(segments)}  # first occurrence of each tag
    truncated = _truncation(first, segments, values)
    checksum = verify(data, segments, values)
    if not checksum.present and not truncated:
        values.warnings.append("no G85 checksum: the audit's integrity is not verified")
    _check_segment_count(first, segments, values)
    machine = _machine(first, values)
    read_at, read_source = _read_at(first, values)
    dxs = first.get("DXS")
    return DexAudit(
        machine=machine,
        control_board=_control_board(first.get("CB1"), values),
        read_at=read_at,
        read_at_source=read_source,
        reads=_reads(first.get("EA3"), values),
        currency=values.currency(first.get("ID4")),
        decimals=values.number(first.get("ID4"), 1),
        totals=_counter(first.get("VA1"), values),
        test_vends=_counter(first.get("VA2"), values),
        free_vends=_counter(first.get("VA3"), values),
        cash=_counter(first.get("CA2"), values),
        cashless=_counter(first.get("DA2"), values),
        cashless_2=_counter(first.get("DB2"), values),
        columns=group_columns(segments, values),
        events=tuple(
            MachineEvent(code=segment.element(1), at=values.machine_time(segment, 2, 3))
            for segment in segments
            if segment.tag == "EA1"
        ),
        event_counters=tuple(
            EventCounter(
                code=segment.element(1),
                count=values.number(segment, 2),
                count_since_reset=values.number(segment, 3),
                active=values.text(segment, 5),
            )
            for segment in segments
            if segment.tag == "EA2"
        ),
        manufacturer_data=tuple(
            tuple(element.strip() for element in segment.elements) for segment in segments if segment.tag == "MA5"
        ),
        dex_version=" ".join(filter(None, (dxs.element(2), dxs.element(3)))) or None if dxs else None,
        checksum=checksum,
        truncated=truncated,
        segment_count=len(segments),
        warnings=_capped(values.warnings),
    )


def _capped(warnings: list[str]) -> tuple[str, ...]:
    """Enough to diagnose a file; a garbled one could otherwise produce thousands."""
    if len(warnings) <= MAX_WARNINGS:
        return tuple(warnings)
    return (*warnings[:MAX_WARNINGS], f"... and {len(warnings) - MAX_WARNINGS} more warnings")


def _envelope(lexed: Lexed, values: Values) -> list[Segment]:
    """The segments from DXS (or the first segment) to DXE; garbage inside them is a ``DexError``."""
    segments = list(lexed.segments)
    if not segments:
        raise DexError(1, None, "no DEX segment found (expected lines like DXS*…, ST*…, ID1*…)")
    if not any(segment.tag in AUDIT_TAGS for segment in segments):
        first = segments[0]
        raise DexError(first.line, first.tag, "not a DEX audit: no DXS, ST, ID1, VA1, PA1, CA2, DA2 or EA3 segment")
    start = next((i for i, segment in enumerate(segments) if segment.tag == "DXS"), 0)
    _ignored(segments[:start], "before DXS", values)
    end = next((i for i, segment in enumerate(segments) if segment.tag == "DXE" and i >= start), len(segments) - 1)
    _ignored(segments[end + 1 :], "after DXE", values)
    inside = segments[start : end + 1]
    second = next((segment for segment in inside[1:] if segment.tag == "DXS"), None)
    if second is not None:
        values.warn(second, "a second DXS inside the audit (two audits run together?); read as one")
    _reject_garbage(lexed, inside, values)
    return inside


def _ignored(segments: list[Segment], where: str, values: Values) -> None:
    """One warning for the segments outside the envelope (a second audit after DXE would be hundreds)."""
    if not segments:
        return
    tags = ", ".join(dict.fromkeys(segment.tag for segment in segments[:20]))
    lines = f"line {segments[0].line}" if len(segments) == 1 else f"lines {segments[0].line}-{segments[-1].line}"
    values.warnings.append(f"{lines}: {len(segments)} segment(s) {where} ignored ({tags})")


def _reject_garbage(lexed: Lexed, inside: list[Segment], values: Values) -> None:
    """Lines that are not segments between the envelope's first and last segment: a few (line noise on a
    serial link) are skipped with a warning, more mean the input is not (only) DEX and raise ``DexError``
    naming the first. Capture-tool annotations are tolerated anywhere; a partial last line without a line
    end is a truncation, reported elsewhere."""
    first_line, last_line = inside[0].line, inside[-1].line
    garbage = [junk for junk in lexed.junk if first_line < junk.line < last_line and not junk.annotation]
    if not garbage:
        return
    allowed = max(MAX_GARBAGE_LINES, len(inside) // 20)
    lines = [segment.line for segment in inside]
    for junk in garbage:
        before = inside[bisect_left(lines, junk.line) - 1]
        if len(garbage) > allowed:
            raise DexError(
                junk.line,
                before.tag,
                f"not a DEX segment: {junk.text[:40]!r} (after {before.name}); "
                f"{len(garbage)} such lines inside the audit",
            )
        values.warn(None, f"line {junk.line}: not a DEX segment: {junk.text[:40]!r} (after {before.name}); skipped")


def _truncation(first: dict[str, Segment], segments: list[Segment], values: Values) -> bool:
    missing = [tag for tag in ("G85", "SE") if "ST" in first and tag not in first]
    if "DXE" not in first:
        missing.append("DXE")
    if missing:
        values.warn(segments[-1], f"truncated: ends at {segments[-1].tag} without {', '.join(missing)}")
        return True
    return False


def _check_segment_count(first: dict[str, Segment], segments: list[Segment], values: Values) -> None:
    """SE01 counts the segments from ST to SE inclusive; ST02 and SE02 name the same transaction set."""
    st, se = first.get("ST"), first.get("SE")
    if st is None or se is None:
        return
    actual = sum(1 for segment in segments if st.line <= segment.line <= se.line)
    declared = values.number(se, 1)
    if declared is not None and declared != actual:
        values.warn(se, f"SE01 says {declared} segments, the transaction set has {actual}")
    if st.element(2) and se.element(2) and st.element(2) != se.element(2):
        values.warn(se, f"SE02 {se.element(2)!r} does not match ST02 {st.element(2)!r}")


def _machine(first: dict[str, Segment], values: Values) -> Machine:
    id1, dxs, cb1 = first.get("ID1"), first.get("DXS"), first.get("CB1")
    serial, source = values.text(id1, 1), "ID101"
    if serial is None:
        for fallback, segment in (("DXS01", dxs), ("CB101", cb1)):
            serial, source = values.text(segment, 1), fallback
            if serial is not None:
                values.warnings.append(f"no machine serial in ID101; using {fallback} {serial!r}")
                break
        else:
            values.warnings.append("no machine serial (ID101, DXS01 and CB101 are empty or missing)")
    return Machine(
        serial=serial,
        serial_source=source if serial is not None else None,
        model=values.text(id1, 2),
        build=values.text(id1, 3),
        location=values.text(id1, 4),
        asset=values.text(id1, 6),
        comm_id=values.text(dxs, 1),
    )


def _read_at(first: dict[str, Segment], values: Values) -> tuple[str | None, str | None]:
    at = values.machine_time(first.get("ID5"), 1, 2)
    if at is not None:
        return at, "ID5"
    at = values.machine_time(first.get("EA3"), 2, 3)
    if at is not None:
        return at, "EA3"
    values.warnings.append("no read time (ID5 and EA3 missing or unreadable)")
    return None, None


def _reads(ea3: Segment | None, values: Values) -> Reads | None:
    if ea3 is None:
        return None
    return Reads(
        count=values.number(ea3, 1),
        at=values.machine_time(ea3, 2, 3),
        previous_at=values.machine_time(ea3, 5, 6),
    )


def _control_board(cb1: Segment | None, values: Values) -> ControlBoard | None:
    if cb1 is None:
        return None
    return ControlBoard(serial=values.text(cb1, 1), model=values.text(cb1, 2), software=values.text(cb1, 3))


def _counter(segment: Segment | None, values: Values) -> Counter | None:
    """Value/count since initialization, then since reset: VA1–VA3, CA2, DA2, DB2 share this layout."""
    if segment is None:
        return None
    return Counter(
        value=values.number(segment, 1),
        vends=values.number(segment, 2),
        value_since_reset=values.number(segment, 3),
        vends_since_reset=values.number(segment, 4),
    )
