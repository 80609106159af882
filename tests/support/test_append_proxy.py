"""The APPEND-rewriting proxy changes exactly the parts of APPEND it is asked to, nothing else."""

from __future__ import annotations

from support.append_proxy import AppendRewriter, end_with_crlf, strip_date, strip_flags


def test_append_rewriter_only_touches_append_command_lines() -> None:
    """Flags and date go from APPEND lines (MULTIAPPEND continuations too); the literals and
    other commands pass byte for byte, whatever the chunking."""
    rw = AppendRewriter(lambda line: strip_flags(strip_date(line)))
    body = b'x (\\Seen) "01-Jan-2023 00:00:00 +0000" {3+}\r\n'  # inside a literal: kept
    stream = (
        b'A1 APPEND INBOX (\\Seen Work) "01-Jan-2023 07:00:00 +0000" {%d+}\r\n' % len(body)
        + body
        + b' (\\Flagged) "02-Jan-2023 07:00:00 +0000" {2+}\r\nhi\r\n'
        + b"A2 UID SEARCH HEADER Message-ID {3+}\r\n<m>\r\n"
    )
    out = b"".join(rw.feed(stream[i : i + 7]) for i in range(0, len(stream), 7))
    assert out == (
        b"A1 APPEND INBOX () {%d+}\r\n" % len(body)
        + body
        + b" () {2+}\r\nhi\r\n"
        + b"A2 UID SEARCH HEADER Message-ID {3+}\r\n<m>\r\n"
    )
    assert rw.rewritten == 2


def test_append_rewriter_rewrites_messages_and_their_lengths() -> None:
    """A message rewritten in flight gets its new length announced (``{n+}``, ``~{n+}`` for
    literal8); messages that need no change, and other commands' literals, stay as they are."""
    rw = AppendRewriter(literal=end_with_crlf)
    stream = (
        b'A1 APPEND INBOX (\\Seen) "01-Jan-2023 07:00:00 +0000" {5+}\r\nhello'
        + b" () ~{4+}\r\nok\r\n\r\n"
        + b"A2 UID SEARCH HEADER Message-ID {3+}\r\n<m>\r\n"
    )
    out = b"".join(rw.feed(stream[i : i + 5]) for i in range(0, len(stream), 5))
    assert out == (
        b'A1 APPEND INBOX (\\Seen) "01-Jan-2023 07:00:00 +0000" {7+}\r\nhello\r\n'
        + b" () ~{4+}\r\nok\r\n\r\n"
        + b"A2 UID SEARCH HEADER Message-ID {3+}\r\n<m>\r\n"
    )
    assert rw.rewritten == 1
