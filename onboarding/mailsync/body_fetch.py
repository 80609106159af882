"""Reading message bodies from the source byte-exact, and noting the ones that did not come.

``BODY.PEEK[]`` is the message as stored, except that a server must not send NUL in a
literal (RFC 3501 §4.3): Dovecot replaces each NUL with 0x80. ``BINARY.PEEK[]`` (RFC 3516)
sends NUL bytes in a ``literal8``, but it also decodes base64/quoted-printable parts and
rewrites their headers, so it is not the stored message either whenever a part is encoded
(measured on the lab's Dovecot 2.3). So every body comes as ``BODY.PEEK[]``; one that may hide
a NUL (it holds an 0x80 that is not inside valid UTF-8) is fetched again as ``BINARY.PEEK[]``
where both sides offer BINARY, and the binary form is used only if turning its NULs back into
0x80 gives exactly the first answer: then it is the stored message with its NUL bytes.
Otherwise the ``BODY[]`` answer stands (fetched a third time, as bodies are not kept).

A message the server answers without a body (NIL, no body item, or no answer at all; servers
do this for damaged or vanished messages) is listed in :attr:`BodyReader.missing` with what
the server said, for the caller to settle with a fresh UID SEARCH.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterable, Iterator

from onboarding.mailsync.connection import token_text
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.literal import Body, Spool, body_chunks, body_sha256
from onboarding.mailsync.problems import describe
from onboarding.mailsync.wire import Token, uid_set

__all__ = ["BodyReader", "may_hide_nuls", "nul_restored_digest"]


def may_hide_nuls(body: Body) -> bool:
    """True if ``body`` holds an 0x80 that valid UTF-8 does not explain (a NUL, on Dovecot).

    UTF-8 text has 0x80 bytes (``—`` is E2 80 94), so 0x80 alone proves nothing; a message
    that is valid UTF-8 cannot have had a NUL replaced, except right after a lead byte.
    """
    if isinstance(body, bytes):
        if b"\x80" not in body:
            return False
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen_80 = False
    try:
        for chunk in body.chunks():
            seen_80 = seen_80 or b"\x80" in chunk
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return seen_80 or any(b"\x80" in c for c in body.chunks())
    return False


def nul_restored_digest(body: Body) -> str:
    """The SHA-256 of ``body`` with every NUL written as 0x80 (what ``BODY[]`` showed)."""
    digest = hashlib.sha256()
    for chunk in body_chunks(body):
        digest.update(chunk.replace(b"\0", b"\x80"))
    return digest.hexdigest()


def _has_nul(body: Body) -> bool:
    return any(b"\0" in chunk for chunk in body_chunks(body))


def close_body(body: Body) -> None:
    """Free a spooled body's disk space (bytes need nothing)."""
    if isinstance(body, Spool):
        body.close()


class BodyReader:
    """Streams the bodies of one batch of source UIDs: ``(uid, body, is_binary)``.

    ``binary`` says both sides offer BINARY (RFC 3516), so NUL bytes can travel. After
    :meth:`bodies` is exhausted, :attr:`missing` maps each UID that came without a body to
    what the server answered instead (``"FETCH without BODY[] (NIL); NO [SERVERBUG] ..."``).
    """

    def __init__(self, src: ImapSession, uids: Iterable[int], *, binary: bool) -> None:
        self.src = src
        self.uids = sorted(uids)
        self.binary = binary
        self.missing: dict[int, str] = {}

    def bodies(self) -> Iterator[tuple[int, Body, bool]]:
        """Every body the source sends, byte-exact where the server allows it."""
        suspects: dict[int, str] = {}  # uid → digest of its BODY[] answer
        for uid, body in self._fetch(self.uids, b"BODY.PEEK[]", "BODY[]"):
            if self.binary and may_hide_nuls(body):
                suspects[uid] = body_sha256(body)
                close_body(body)
                continue
            yield uid, body, False
        if not suspects:
            return
        plain: list[int] = []
        for uid, raw in self._fetch(list(suspects), b"BINARY.PEEK[]", "BINARY[]"):
            if _has_nul(raw) and nul_restored_digest(raw) == suspects[uid]:
                yield uid, raw, True
            else:
                close_body(raw)
                plain.append(uid)
        for uid, body in self._fetch(plain, b"BODY.PEEK[]", "BODY[]"):
            yield uid, body, False

    def _fetch(self, uids: list[int], item: bytes, key: str) -> Iterator[tuple[int, Body]]:
        if not uids:
            return
        wanted = set(uids)
        without: dict[int, str] = {}
        stream = self.src.uid_fetch(uid_set(uids), b"(UID " + item + b")", check=False)
        while True:
            try:
                it = next(stream)
            except StopIteration as stop:
                status = stop.value
                break
            uid = int(token_text(it["UID"]))
            if uid not in wanted:
                continue
            body: Token = it.get(key)
            if isinstance(body, bytes | Spool) and len(body):
                wanted.discard(uid)
                without.pop(uid, None)
                yield uid, body
            else:
                shown = f"no {key} item" if key not in it else "NIL" if body is None else "empty"
                without[uid] = f"FETCH answered without {key} ({shown})"
        done = "" if status.ok else f"; {describe(status)}"
        for uid in wanted:
            self.missing[uid] = without.get(uid, f"no FETCH answer for UID {uid}") + done
