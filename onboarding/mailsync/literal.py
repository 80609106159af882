"""Reading a server's literal (RFC 3501 §4.3) without holding a big one in memory.

A literal up to :data:`SPOOL_THRESHOLD` bytes is read into ``bytes``; a bigger one streams into
a :class:`Spool`, an anonymous temporary file (mode 0600, unlinked at once, so it is gone when
closed or when the process dies). A claim above the reader's cap is refused before a byte is
allocated: a server announcing ``{50000000000}`` gives :class:`LiteralTooLarge`, never a
``MemoryError``. Peak memory per message is one chunk, not the message::

    read_literal(rfile, 69, cap=2**30)           → b"From: ..."
    read_literal(rfile, 60_000_000, cap=2**30)   → Spool (60,000,000 bytes on disk)
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

__all__ = [
    "CHUNK",
    "DEFAULT_MAX_LITERAL",
    "SPOOL_THRESHOLD",
    "Body",
    "LiteralTooLarge",
    "Spool",
    "body_chunks",
    "body_head",
    "body_sha256",
    "read_literal",
]

CHUNK = 1024 * 1024
SPOOL_THRESHOLD = 4 * 1024 * 1024
DEFAULT_MAX_LITERAL = 1024 * 1024 * 1024  # 1 GiB: far above any mail server's message limit


class LiteralTooLarge(ValueError):
    """Raised when a server announces a literal over the reader's cap (nothing was read)."""

    def __init__(self, claimed: int, cap: int, line: bytes) -> None:
        self.claimed = claimed
        self.cap = cap
        self.line = line
        super().__init__(f"a {claimed:,}-byte literal is over the cap of {cap:,} bytes")


class Spool:
    """A literal kept in an anonymous temporary file; read it with :meth:`chunks`.

    ``sha256`` is the digest of its bytes, computed while they arrived. :meth:`close` frees the
    disk space (the file has no name; the garbage collector closes a forgotten one too).
    """

    def __init__(self, rfile: BinaryIO, size: int) -> None:
        self.size = size
        # 0600 and unlinked at once on POSIX; closed by close() (or the garbage collector).
        self._file = tempfile.TemporaryFile(prefix="mailsync-")  # noqa: SIM115
        digest = hashlib.sha256()
        left = size
        try:
            while left:
                data = rfile.read(min(CHUNK, left))
                if not data:
                    break
                digest.update(data)
                self._file.write(data)
                left -= len(data)
        except BaseException:
            self.close()
            raise
        self.received = size - left
        self.sha256 = digest.hexdigest()

    def __len__(self) -> int:
        return self.size

    def chunks(self) -> Iterator[bytes]:
        """The literal's bytes from the start, :data:`CHUNK` at a time."""
        self._file.seek(0)
        while data := self._file.read(CHUNK):
            yield data

    def head(self, n: int) -> bytes:
        """The first ``n`` bytes."""
        self._file.seek(0)
        return self._file.read(n)

    def fileno(self) -> int:
        """The spool file's descriptor (for ``os.fstat``: mode 0600, no name on disk)."""
        return self._file.fileno()

    def close(self) -> None:
        """Delete the spool (safe to call twice)."""
        self._file.close()

    def __repr__(self) -> str:
        return f"Spool({self.size} bytes)"


Body = bytes | Spool


def read_literal(
    rfile: BinaryIO, size: int, *, cap: int, line: bytes = b"", threshold: int = SPOOL_THRESHOLD
) -> Body | None:
    """Read a ``size``-byte literal; None if the stream ended early (the connection dropped).

    Raises :class:`LiteralTooLarge` (before reading) when ``size`` is over ``cap``.
    """
    if size > cap:
        raise LiteralTooLarge(size, cap, line)
    if size <= threshold:
        data = rfile.read(size)
        return data if len(data) == size else None
    spool = Spool(rfile, size)
    if spool.received != size:
        spool.close()
        return None
    return spool


def body_head(body: Body, n: int = 256 * 1024) -> bytes:
    """The first ``n`` bytes of a literal (where a message's header is)."""
    return body[:n] if isinstance(body, bytes) else body.head(n)


def body_sha256(body: Body) -> str:
    """The hex SHA-256 of a literal's bytes."""
    return hashlib.sha256(body).hexdigest() if isinstance(body, bytes) else body.sha256


def body_chunks(body: Body) -> Iterator[bytes]:
    """A literal's bytes, in pieces that can be written to a socket one after the other."""
    if isinstance(body, bytes):
        yield body
    else:
        yield from body.chunks()
