"""IMAP-aware stream filters for the fault proxy: servers that misbehave on one message.

:class:`LiteralRewriter` splits one direction of an IMAP stream into "a line ending in a
literal marker + the literal" pieces and hands each to a callback that returns the bytes to
forward instead, so a test can play a server that answers FETCH without a body, announces an
impossible literal, stores a message altered, or drops the connection on a poison message::

    proxy.filter("downstream", lambda: LiteralRewriter(drop_body_of({7})))
    proxy.filter("upstream", lambda: LiteralRewriter(reset_on(b"POISON"), client=True))

Lines without a literal go through ``lines`` (a source that throttles, issue 10)::

    answers = [b"NO Request is throttled. Suggested Backoff Time: 100 milliseconds"]
    proxy.filter("downstream", lambda: LiteralRewriter(keep, lines=throttle_fetches(answers)))

Only non-synchronizing literals (a client's ``{n+}``, LITERAL+, and every server literal) can
be rewritten: for a synchronizing one the client waits for ``+`` before sending the data, so
its line is forwarded at once and its data passes through unchanged.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection

from support.faultproxy import ResetConnection

__all__ = [
    "LiteralRewriter",
    "add_header_to_appends",
    "claim_literal_for",
    "drop_body_of",
    "keep",
    "record_bodies",
    "relit",
    "reset_on",
    "throttle_fetches",
]

# (line with its marker, literal) → bytes to forward in place of line + CRLF + literal
Rewrite = Callable[[bytes, bytes], bytes]

_MARKER = re.compile(rb"(~?)\{(\d+)(\+?)\}$")
_FETCH_UID = re.compile(rb"^\* \d+ FETCH \(.*\bUID (\d+)\b", re.IGNORECASE)


def relit(line: bytes, data: bytes) -> bytes:
    """``line``'s literal marker resized for ``data``, then ``data``: a rewritten literal."""
    m = _MARKER.search(line)
    assert m is not None
    marker = m.group(1) + b"{%d" % len(data) + m.group(3) + b"}"
    return line[: m.start()] + marker + b"\r\n" + data


class LiteralRewriter:
    """A :class:`~support.faultproxy.StreamFilter` calling ``rewrite`` on every literal
    (``client``: the stream is the client's, where ``{n}`` waits for the server's ``+``)."""

    def __init__(
        self,
        rewrite: Rewrite,
        *,
        client: bool = False,
        lines: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.rewrite = rewrite
        self.client = client
        self.lines = lines
        self.buf = b""
        self.line: bytes | None = None  # a line waiting for its literal
        self.need = 0
        self.passthrough = 0  # bytes of a synchronizing literal still to pass unchanged

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out: list[bytes] = []
        while True:
            if self.passthrough:
                take = self.buf[: self.passthrough]
                self.buf = self.buf[len(take) :]
                self.passthrough -= len(take)
                out.append(take)
                if self.passthrough:
                    break
            if self.line is not None:
                if len(self.buf) < self.need:
                    break
                data, self.buf = self.buf[: self.need], self.buf[self.need :]
                out.append(self.rewrite(self.line, data))
                self.line = None
                continue
            end = self.buf.find(b"\r\n")
            if end < 0:
                break
            line, self.buf = self.buf[:end], self.buf[end + 2 :]
            m = _MARKER.search(line)
            if m is None:
                out.append((self.lines(line) if self.lines else line) + b"\r\n")
            elif m.group(3) or not self.client:  # LITERAL+, or a server's literal
                self.line, self.need = line, int(m.group(2))
            else:
                out.append(line + b"\r\n")
                self.passthrough = int(m.group(2))
        return b"".join(out)


def keep(line: bytes, data: bytes) -> bytes:
    """Forward a literal as it came."""
    return line + b"\r\n" + data


_BODY = re.compile(rb"\b(?:BODY|BINARY)\[\] ~?\{")
_FETCH_DONE = re.compile(rb"^(\S+) OK Fetch completed", re.IGNORECASE)


def record_bodies(times: list[float]) -> Rewrite:
    """Forward every literal; append the time of each message body (``BODY[]``) to ``times``."""

    def rewrite(line: bytes, data: bytes) -> bytes:
        if _BODY.search(line):
            times.append(time.monotonic())
        return line + b"\r\n" + data

    return rewrite


def throttle_fetches(answers: list[bytes]) -> Callable[[bytes], bytes]:
    """Turn the next FETCH completions into ``answers`` (popped in order, shared by every
    connection): a source that throttles, as Office 365 and Gmail do."""

    def lines(line: bytes) -> bytes:
        m = _FETCH_DONE.match(line)
        if m and answers:
            return m.group(1) + b" " + answers.pop(0)
        return line

    return lines


def reset_on(marker: bytes) -> Rewrite:
    """Reset the connection whenever a literal contains ``marker`` (a poison message)."""

    def rewrite(line: bytes, data: bytes) -> bytes:
        if marker in data:
            raise ResetConnection
        return line + b"\r\n" + data

    return rewrite


def drop_body_of(uids: Collection[int], *, mode: str = "nil") -> Rewrite:
    """Answer the FETCH of ``uids`` without the body: ``BODY[] NIL`` or no body item."""

    def rewrite(line: bytes, data: bytes) -> bytes:
        m = _FETCH_UID.match(line)
        if m and int(m.group(1)) in uids:
            head = line[: _MARKER.search(line).start()].rstrip()  # type: ignore[union-attr]
            item = head.rsplit(b" ", 1)
            return head + b" NIL" if mode == "nil" else item[0]
        return line + b"\r\n" + data

    return rewrite


def claim_literal_for(uids: Collection[int], claim: int) -> Rewrite:
    """Announce a ``claim``-byte literal for the ``BODY[]`` of ``uids`` (and send no more)."""

    def rewrite(line: bytes, data: bytes) -> bytes:
        m = _FETCH_UID.match(line)
        if m and int(m.group(1)) in uids and re.search(rb"BODY\[\] ~?\{", line):
            return _MARKER.sub(b"{%d}" % claim, line) + b"\r\n"
        return line + b"\r\n" + data

    return rewrite


def add_header_to_appends(header: bytes, *, when: bytes) -> Rewrite:
    """Prefix ``header`` to every APPENDed message containing ``when`` (a filtering server)."""

    def rewrite(line: bytes, data: bytes) -> bytes:
        if when in data:
            return relit(line, header + data)
        return line + b"\r\n" + data

    return rewrite
