"""Lexing: offsets stay byte-exact through junk, control bytes, Latin-1 and every line-end style."""

from __future__ import annotations

from tradeoff.vending.dex.segments import lex


def test_capture_header_and_control_byte_are_skipped_with_offsets_kept() -> None:
    raw = b"<000|Ops|N&W|20191230|\x11>DXS*NEC1*VA*V0/6*1\r\nST*001*0001\r\n<AAAA|BBBB>"
    lexed = lex(raw)
    dxs, st = lexed.segments
    assert (dxs.tag, dxs.elements) == ("DXS", ("NEC1", "VA", "V0/6", "1"))
    assert raw[dxs.start : dxs.start + 4] == b"DXS*"
    assert raw[st.start : st.end] == b"ST*001*0001\r\n"
    assert raw[st.start : st.content_end] == b"ST*001*0001"
    assert [(junk.text, junk.annotation) for junk in lexed.junk] == [
        ("<000|Ops|N&W|20191230|>", True),
        ("<AAAA|BBBB>", True),
    ]


def test_lf_crlf_and_lone_cr_all_split_lines() -> None:
    lexed = lex(b"ID1*A\nID4*2\r\nID5*20240101*1200\rVA1*1*2")
    assert [s.tag for s in lexed.segments] == ["ID1", "ID4", "ID5", "VA1"]
    assert [s.line_end for s in lexed.segments] == ["\n", "\r\n", "\r", ""]
    assert [s.line for s in lexed.segments] == [1, 2, 3, 4]


def test_latin1_text_and_empty_elements() -> None:
    [segment] = lex("PA1**3*Caf\xe9 cr\xe8me  ***1\r\n".encode("latin-1")).segments
    assert segment.elements == ("", "3", "Caf\xe9 cr\xe8me  ", "", "", "1")
    assert segment.element(1) == "" and segment.element(3) == "Caf\xe9 cr\xe8me" and segment.element(9) == ""


def test_words_and_garbage_are_not_segments() -> None:
    lexed = lex(b"Hello world\r\nOK\r\nID4\r\n\x00\x01\r\n")
    assert [s.tag for s in lexed.segments] == ["ID4"]
    assert [(junk.text, junk.annotation) for junk in lexed.junk] == [("Hello world", False), ("OK", False)]


def test_dxs_glued_to_unbracketed_junk_is_found() -> None:
    [segment] = lex(b"~~modem CONNECT 9600~~DXS*ABC1234567*VA*V1/1*1\r\n").segments
    assert segment.tag == "DXS" and segment.element(1) == "ABC1234567"
