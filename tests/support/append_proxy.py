"""A loopback proxy that plays a destination changing what APPEND gave it (issue 14).

Real servers do: some set their own INTERNALDATE, some drop flags given in APPEND (Office 365
and ``\\Flagged``), some store a message with other line endings than they were sent. Dovecot
does none of this, so the tests put this proxy in front of the lab's destination::

    with rewriting_proxy(target, strip_date) as (port, rewriters):       # command line
    with rewriting_proxy(target, literal=end_with_crlf) as (port, rewriters):  # the message

Only APPEND commands are touched (MULTIAPPEND continuations included); every other byte
passes as it is. A rewritten message needs a non-synchronizing literal (``{n+}``, LITERAL+)
so the proxy can announce its new length; the engine uses one wherever LITERAL+ is offered.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

__all__ = ["AppendRewriter", "end_with_crlf", "rewriting_proxy", "strip_date", "strip_flags"]

_LITERAL = re.compile(rb"(~?)\{(\d+)(\+?)\}$")
_DATE_ARG = re.compile(rb' "\d{1,2}-[A-Za-z]{3}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}"(?= ~?\{\d+\+?\}$)')
_FLAG_ARG = re.compile(rb"\([^()]*\)(?=(?: \"[^\"]*\")? ~?\{\d+\+?\}$)")


def strip_date(line: bytes) -> bytes:
    """APPEND without its date: the destination sets its own INTERNALDATE."""
    return _DATE_ARG.sub(b"", line)


def strip_flags(line: bytes) -> bytes:
    """APPEND without its flags: the destination drops flags given in APPEND."""
    return _FLAG_ARG.sub(b"()", line)


def end_with_crlf(message: bytes) -> bytes:
    """The message as a destination that ends every stored message with a line ending."""
    return message if message.endswith(b"\r\n") else message + b"\r\n"


def _same(data: bytes) -> bytes:
    return data


class AppendRewriter:
    """Rewrites APPEND commands in a client→server byte stream: the command-line parts with
    ``rewrite``, the messages (literals) with ``literal``; a literal's length follows it."""

    def __init__(
        self,
        rewrite: Callable[[bytes], bytes] = _same,
        literal: Callable[[bytes], bytes] | None = None,
    ) -> None:
        self.rewrite = rewrite
        self.literal_rewrite = literal
        self.buf = b""
        self.literal = 0  # bytes of literal still to pass through
        self.held: bytes | None = None  # a command line waiting for its rewritten literal
        self.collected = bytearray()
        self.continuation = False  # the next line continues a command after a literal
        self.in_append = False
        self.rewritten = 0

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out = bytearray()
        while self.buf:
            if self.literal:
                take = self.buf[: self.literal]
                self.literal -= len(take)
                self.buf = self.buf[len(take) :]
                if self.held is None:
                    out += take
                    continue
                self.collected += take
                if not self.literal:
                    out += self._release()
                continue
            end = self.buf.find(b"\r\n")
            if end < 0:
                break
            line, self.buf = self.buf[:end], self.buf[end + 2 :]
            if not self.continuation:
                self.in_append = b" APPEND " in line.upper()
            if self.in_append:
                new = self.rewrite(line)
                self.rewritten += new != line
                line = new
            m = _LITERAL.search(line)
            self.continuation = m is not None
            self.literal = int(m.group(2)) if m else 0
            if m and self.in_append and self.literal_rewrite is not None and m.group(3):
                self.held = line
                if not self.literal:
                    out += self._release()
                continue
            out += line + b"\r\n"
        return bytes(out)

    def _release(self) -> bytes:
        """The held command line with the rewritten literal's length, then that literal."""
        assert self.held is not None and self.literal_rewrite is not None
        old = bytes(self.collected)
        new = self.literal_rewrite(old)
        self.rewritten += new != old
        m = _LITERAL.search(self.held)
        assert m is not None
        line = self.held[: m.start()] + b"%s{%d+}" % (m.group(1), len(new))
        self.held, self.collected = None, bytearray()
        return line + b"\r\n" + new


@contextmanager
def rewriting_proxy(
    target: tuple[str, int],
    rewrite: Callable[[bytes], bytes] = _same,
    *,
    literal: Callable[[bytes], bytes] | None = None,
) -> Iterator[tuple[int, list[AppendRewriter]]]:
    """A loopback TCP proxy to ``target`` that rewrites APPEND commands (see the module);
    yields its port and the per-connection rewriters (to check that it rewrote something)."""
    listener = socket.create_server(("127.0.0.1", 0))
    rewriters: list[AppendRewriter] = []
    socks: list[socket.socket] = [listener]

    def pump(src: socket.socket, dst: socket.socket, rw: AppendRewriter | None) -> None:
        with suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(rw.feed(data) if rw else data)
        with suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def accept() -> None:
        with suppress(OSError):
            while True:
                client, _ = listener.accept()
                server = socket.create_connection(target)
                socks.extend((client, server))
                rw = AppendRewriter(rewrite, literal)
                rewriters.append(rw)
                threading.Thread(target=pump, args=(client, server, rw), daemon=True).start()
                threading.Thread(target=pump, args=(server, client, None), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1], rewriters
    finally:
        for s in socks:
            with suppress(OSError):
                s.close()
