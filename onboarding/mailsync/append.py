"""Pipelined APPEND: many messages in flight, optionally grouped with MULTIAPPEND.

Measured on Dovecot 2.3 (loopback): one APPEND per message commits one transaction each and
runs at ~200-400 msg/s even pipelined; MULTIAPPEND (RFC 3502) of 50 messages commits once and
runs at ~2,000-3,300 msg/s. With LITERAL+ (RFC 7888) each message is written as it streams
in from the source, so a group never sits in memory. MULTIAPPEND is atomic: when a group is
refused, the caller re-sends its messages one by one to find the one at fault.

A message with NUL bytes goes as a ``literal8`` (``~{n+}``, RFC 3516 §4.4). With
``verify_sizes`` every APPENDUID answer is followed by ``UID FETCH uids (RFC822.SIZE)``, written
into the same stream as the next APPEND (no round trip of its own), so the caller can compare
what the destination stored with what it was sent (:attr:`AppendPipeline.stored_sizes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onboarding.mailsync._exceptions import ProtocolError
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.literal import Body, body_chunks
from onboarding.mailsync.wire import (
    RawResponse,
    StatusResponse,
    WireError,
    fetch_items,
    parse_status_response,
    parse_tokens,
    quote,
    uid_set,
)

__all__ = ["AppendPipeline", "AppendResult", "parse_uid_set"]


def parse_uid_set(text: bytes) -> list[int]:
    """Expand an APPENDUID uid-set in order: ``b"5:7,9"`` → ``[5, 6, 7, 9]`` (RFC 4315)."""
    out: list[int] = []
    for part in text.split(b","):
        lo, _, hi = part.partition(b":")
        a = int(lo)
        b = int(hi) if hi else a
        out.extend(range(a, b + 1) if a <= b else range(a, b - 1, -1))
    return out


@dataclass
class AppendResult:
    """The completion of one APPEND command carrying the messages ``tokens`` (in order)."""

    tokens: list[int]
    status: StatusResponse

    @property
    def appended_uids(self) -> list[int | None]:
        """Destination UIDs from ``[APPENDUID v uid-set]`` matched to ``tokens`` (or None)."""
        st = self.status
        if st.ok and st.code == "APPENDUID" and len(st.code_args) >= 2:
            arg = st.code_args[1]
            if isinstance(arg, bytes):
                try:
                    uids = parse_uid_set(arg)
                except ValueError:
                    uids = []
                if len(uids) == len(self.tokens):
                    return list(uids)
        return [None] * len(self.tokens)


class AppendPipeline:
    """Keeps up to ``depth`` APPEND commands to one folder in flight.

    ``group`` > 1 sends MULTIAPPEND commands of up to ``group`` messages / ``group_bytes``
    bytes (only with LITERAL+ and MULTIAPPEND). Without LITERAL+ each literal waits for the
    server's ``+`` (a round trip per message, the best such a server allows).
    """

    def __init__(
        self,
        session: ImapSession,
        mailbox: str,
        *,
        depth: int = 8,
        group: int = 50,
        group_bytes: int = 4 * 1024 * 1024,
        verify_sizes: bool = False,
    ) -> None:
        self.s = session
        self.mailbox = quote(mailbox)
        self.depth = max(1, depth)
        caps = session.capabilities
        self.literal_plus = "LITERAL+" in caps
        self.group = group if (self.literal_plus and "MULTIAPPEND" in caps) else 1
        self.group_bytes = group_bytes
        self.in_flight: dict[bytes, list[int]] = {}
        self.done: list[AppendResult] = []
        self._open_tag: bytes | None = None
        self._open_tokens: list[int] = []
        self._open_bytes = 0
        self.verify = verify_sizes and "UIDPLUS" in caps
        self.stored_sizes: dict[int, int] = {}  # destination UID → its RFC822.SIZE there
        self._checks: list[list[int]] = []  # APPENDUIDs whose size is still to be asked
        self._check_tags: set[bytes] = set()

    def submit(
        self,
        token: int,
        flags: Iterable[str],
        internaldate: str | None,
        body: Body,
        *,
        binary: bool = False,
    ) -> None:
        """Send one message (``binary``: as a literal8, for NUL bytes); completions are
        collected in :attr:`done` as they arrive."""
        s = self.s
        flag_part = b"(" + b" ".join(f.encode("ascii") for f in flags) + b")"
        date_part = b" " + quote(internaldate) if internaldate else b""
        tilde = b"~" if binary else b""
        if not self.literal_plus:
            self._submit_sync(token, flag_part + date_part + b" " + tilde, body)
            return
        if self._open_tag is None:
            while len(self.in_flight) >= self.depth:
                s.flush_io()
                self._read_one()
            self._send_checks()
            self._open_tag = s.next_tag()
            head = self._open_tag + b" APPEND " + self.mailbox
        else:
            head = b""
        piece = head + b" " + flag_part + date_part + b" " + tilde + b"{%d+}\r\n" % len(body)
        self._open_tokens.append(token)  # in flight from its first byte (see unconfirmed())
        with s.io():
            if isinstance(body, bytes) and len(body) < 65536:
                s.write(piece + body)
            else:
                s.write(piece)
                for chunk in body_chunks(body):
                    s.write(chunk)
        self._open_bytes += len(body)
        if len(self._open_tokens) >= self.group or self._open_bytes >= self.group_bytes:
            self._close_group()

    def _close_group(self) -> None:
        if self._open_tag is None:
            return
        with self.s.io():
            self.s.write(b"\r\n")
        self.in_flight[self._open_tag] = self._open_tokens
        self._open_tag, self._open_tokens, self._open_bytes = None, [], 0

    def _submit_sync(self, token: int, args: bytes, body: Body) -> None:
        s = self.s
        self._send_checks()
        tag = s.next_tag()
        with s.io():
            s.write(tag + b" APPEND " + self.mailbox + b" " + args + b"{%d}\r\n" % len(body))
            s.flush()
        self.in_flight[tag] = [token]
        while True:
            resp = s.read_response()
            if resp.first.startswith(b"+"):
                break
            if self._complete(resp) and tag not in self.in_flight:
                return  # refused before the literal was sent (e.g. TOOBIG)
        with s.io():
            for chunk in body_chunks(body):
                s.write(chunk)
            s.write(b"\r\n")

    def unconfirmed(self) -> list[int]:
        """The tokens sent (or being sent) whose APPEND has not been answered yet."""
        return [t for tokens in self.in_flight.values() for t in tokens] + self._open_tokens

    def _send_checks(self) -> None:
        """Ask the stored size of the UIDs APPENDUID reported (only between commands)."""
        if not self._checks:
            return
        with self.s.io():
            for uids in self._checks:
                tag = self.s.next_tag()
                self._check_tags.add(tag)
                self.s.write(tag + b" UID FETCH " + uid_set(uids) + b" (UID RFC822.SIZE)\r\n")
        self._checks.clear()

    def _read_one(self) -> None:
        while not self._complete(self.s.read_response()):
            pass

    def _complete(self, resp: RawResponse) -> bool:
        first = resp.first
        if first.startswith(b"* BYE"):
            self.s.raise_for_bye(parse_status_response(first), "server closed the session")
        tokens = self.in_flight.pop(resp.tag, None)
        if tokens is None:
            if resp.tag in self._check_tags:
                self._check_tags.discard(resp.tag)  # a NO here leaves those sizes unknown
            elif self.verify and b" FETCH " in first[:32]:
                self._stored_size(resp)
            return False
        st = parse_status_response(first)
        if st is None:
            raise ProtocolError(f"unparsable completion {first[:100]!r}", **self.s.error_context())
        result = AppendResult(tokens, st)
        self.done.append(result)
        if self.verify and st.ok:
            uids = [u for u in result.appended_uids if u is not None]
            if uids:
                self._checks.append(uids)
        return True

    def _stored_size(self, resp: RawResponse) -> None:
        try:
            _, items = fetch_items(parse_tokens(resp))
        except WireError:
            return  # not an answer to our size check
        uid, size = items.get("UID"), items.get("RFC822.SIZE")
        if isinstance(uid, bytes) and isinstance(size, bytes) and uid.isdigit() and size.isdigit():
            self.stored_sizes[int(uid)] = int(size)

    def drain(self) -> list[AppendResult]:
        """Finish the open group, wait for every command (and size check) in flight; return
        all completions."""
        self._close_group()
        while self.in_flight or self._checks or self._check_tags:
            self._send_checks()
            self.s.flush_io()
            self._complete(self.s.read_response())
        out, self.done = self.done, []
        return out
