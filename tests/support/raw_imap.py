"""A few IMAP commands on a raw socket, for what imapclient cannot say: literal8 (RFC 3516).

imapclient neither sends ``~{n}`` nor parses it, so tests that put NUL bytes into a mailbox,
or read them back, use :func:`append_binary` and :func:`fetch_binary`.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

__all__ = ["append_binary", "fetch_binary"]

_LITERAL = re.compile(rb"~?\{(\d+)\}\r\n$")
_UID = re.compile(rb"\bUID (\d+)")


def _quote(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


@contextmanager
def _session(host: str, port: int, login: str, password: str) -> Iterator[BinaryIO]:
    with socket.create_connection((host, port), timeout=60) as sock:
        f = sock.makefile("rwb")
        f.readline()
        _command(f, b"L LOGIN " + _quote(login.encode()) + b" " + _quote(password.encode()))
        yield f
        f.write(b"Z LOGOUT\r\n")
        f.flush()


def _command(f: BinaryIO, line: bytes, literal: bytes | None = None) -> list[bytes]:
    """Send one command; return its untagged lines and literals; assert it ended OK."""
    tag = line.split(b" ", 1)[0]
    f.write(line + b"\r\n")
    f.flush()
    out: list[bytes] = []
    while True:
        got = f.readline()
        assert got, "server closed the connection"
        if got.startswith(b"+") and literal is not None:
            f.write(literal + b"\r\n")
            f.flush()
            literal = None
            continue
        out.append(got)
        m = _LITERAL.search(got)
        if m:
            out.append(f.read(int(m.group(1))))
        elif got.startswith(tag + b" "):
            assert got.startswith(tag + b" OK"), got
            return out


def append_binary(host: str, port: int, login: str, password: str, folder: str, msg: bytes) -> None:
    """APPEND ``msg`` (NUL bytes allowed) to ``folder`` as a literal8."""
    with _session(host, port, login, password) as f:
        _command(f, b"A APPEND " + _quote(folder.encode()) + b" ~{%d}" % len(msg), msg)


def fetch_binary(host: str, port: int, login: str, password: str, folder: str) -> dict[int, bytes]:
    """Every message of ``folder`` as ``BINARY.PEEK[]`` (NUL bytes kept), by UID."""
    with _session(host, port, login, password) as f:
        _command(f, b"S EXAMINE " + _quote(folder.encode()))
        got = _command(f, b"F UID FETCH 1:* (UID BINARY.PEEK[])")
    out: dict[int, bytes] = {}
    for k, line in enumerate(got):
        m = _UID.search(line) if _LITERAL.search(line) else None
        if m:
            out[int(m.group(1))] = got[k + 1]
    return out
