"""The IMAP wire parser and command formatter, on literal wire bytes (RFC 3501 §9)."""

from __future__ import annotations

import pytest

from onboarding.mailsync.wire import (
    RawResponse,
    WireError,
    append_command,
    fetch_items,
    is_atom,
    literal_size,
    parse_status_response,
    parse_tokens,
    quote,
    uid_set,
)


def test_fetch_with_literal_body_keeps_bytes_exact() -> None:
    """A FETCH literal comes back byte for byte, CR/LF and 8-bit included."""
    body = b'Subject: \xc3\xbc\r\n\r\nline (with) "quotes" {3}\r\n'
    resp = RawResponse(
        [
            b'* 12 FETCH (UID 7 FLAGS (\\Seen $Label) INTERNALDATE " 7-Jul-2024 10:00:00 +0200" '
            b"RFC822.SIZE %d BODY[] {%d}" % (len(body), len(body)),
            b")",
        ],
        [body],
    )
    seq, items = fetch_items(parse_tokens(resp))
    assert seq == 12
    assert items["UID"] == b"7"
    assert items["FLAGS"] == [b"\\Seen", b"$Label"]
    assert items["INTERNALDATE"] == b" 7-Jul-2024 10:00:00 +0200"
    assert items["BODY[]"] is body


def test_header_fields_section_is_one_item() -> None:
    """``BODY[HEADER.FIELDS (MESSAGE-ID)]`` with its inner parens is keyed HEADER."""
    hdr = b"Message-ID: <a@b>\r\n\r\n"
    resp = RawResponse(
        [b"* 1 FETCH (UID 3 BODY[HEADER.FIELDS (MESSAGE-ID)] {%d}" % len(hdr), b")"], [hdr]
    )
    _, items = fetch_items(parse_tokens(resp))
    assert items["HEADER"] == hdr
    assert items["UID"] == b"3"


def test_nil_quoted_escapes_and_nesting() -> None:
    """NIL is None, quoted strings are unescaped, and parenthesised lists nest (RFC 3501 4)."""
    toks = parse_tokens(RawResponse([b'* LIST (\\HasNoChildren) NIL "a \\"b\\" \\\\c"']))
    assert toks == [b"*", b"LIST", [b"\\HasNoChildren"], None, b'a "b" \\c']


def test_list_name_as_literal() -> None:
    """A mailbox name sent as a literal is read from the literal, parentheses included."""
    resp = RawResponse([b'* LIST () "/" {4}', b""], [b"a(b)"])
    assert parse_tokens(resp)[-1] == b"a(b)"


@pytest.mark.parametrize(
    "lines",
    [[b"* 1 FETCH (UID 1"], [b"* 1 FETCH UID 1)"], [b'* LIST () "/" "open']],
)
def test_malformed_responses_raise(lines: list[bytes]) -> None:
    """An unclosed or unopened list or an unterminated quoted string raises WireError."""
    with pytest.raises(WireError):
        parse_tokens(RawResponse(lines))


def test_literal_marker_without_data_raises() -> None:
    """A literal marker with no literal data after it raises WireError."""
    with pytest.raises(WireError):
        parse_tokens(RawResponse([b"* 1 FETCH (BODY[] {5}"]))


def test_status_response_with_code() -> None:
    """A tagged or untagged status response gives its tag, status, response code with arguments, and
    text; a BYE without code has none; a data response is no status response."""
    st = parse_status_response(b"M9 OK [APPENDUID 38505 3955:3957] APPEND completed")
    assert st is not None
    assert (st.tag, st.status, st.code, st.code_args) == (
        "M9",
        "OK",
        "APPENDUID",
        [b"38505", b"3955:3957"],
    )
    assert st.text == "APPEND completed"
    perm = parse_status_response(b"* OK [PERMANENTFLAGS (\\Seen \\*)] Limited")
    assert perm is not None and perm.code_args == [[b"\\Seen", b"\\*"]]
    bye = parse_status_response(
        b"* BYE Request is throttled. Suggested Backoff Time: 299961 milliseconds"
    )
    assert bye is not None and bye.status == "BYE" and bye.code is None
    assert parse_status_response(b"* 5 EXISTS") is None


def test_literal_size() -> None:
    """A line ending in {n} or {n+} announces a literal of n bytes; other lines none."""
    assert literal_size(b"* 1 FETCH (BODY[] {123}") == 123
    assert literal_size(b"A1 APPEND x {9+}") == 9
    assert literal_size(b"* OK done") is None


def test_quote_and_atoms() -> None:
    """quote escapes quotes and backslashes and refuses CR/LF; an atom is a non-empty word without
    specials."""
    assert quote('a"b\\c') == b'"a\\"b\\\\c"'
    with pytest.raises(ValueError):
        quote("a\r\nb")
    assert is_atom(b"$Forwarded") and not is_atom(b"two words") and not is_atom(b"")


def test_append_command_literal_plus_and_sync() -> None:
    """An APPEND command quotes the folder, lists the flags, adds the date when known, and announces
    the literal as {n+} with LITERAL+ or {n} otherwise."""
    cmd = append_command(
        b"M4", b"Sent", ["\\Seen", "$Work"], "01-Jan-2024 10:00:00 +0000", 42, literal_plus=True
    )
    assert cmd == b'M4 APPEND "Sent" (\\Seen $Work) "01-Jan-2024 10:00:00 +0000" {42+}\r\n'
    sync = append_command(b"M5", b"INBOX", [], None, 7, literal_plus=False)
    assert sync == b'M5 APPEND "INBOX" () {7}\r\n'


def test_uid_set_compacts_ranges() -> None:
    """A UID set is sorted and compacted into ranges; an empty one is a ValueError."""
    assert uid_set([7, 1, 2, 3, 9, 10]) == b"1:3,7,9:10"
    assert uid_set([5]) == b"5"
    with pytest.raises(ValueError):
        uid_set([])
