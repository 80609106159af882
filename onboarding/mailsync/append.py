"""Pipelined APPEND: many messages in flight, optionally grouped with MULTIAPPEND.

Measured on Dovecot 2.3 (loopback): one APPEND per message commits one transaction each and
runs at ~200-400 msg/s even pipelined; MULTIAPPEND (RFC 3502) of 50 messages commits once and
runs at ~2,000-3,300 msg/s. With LITERAL+ (RFC 7888) each message is written as it streams
in from the source, so a group never sits in memory. MULTIAPPEND is atomic: when a group is
refused, the caller re-sends its messages one by one to find the one at fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onboarding.mailsync._exceptions import ProtocolError
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.wire import RawResponse, StatusResponse, parse_status_response, quote

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

    def submit(
        self, token: int, flags: Iterable[str], internaldate: str | None, body: bytes
    ) -> None:
        """Send one message; completions are collected in :attr:`done` as they arrive."""
        s = self.s
        flag_part = b"(" + b" ".join(f.encode("ascii") for f in flags) + b")"
        date_part = b" " + quote(internaldate) if internaldate else b""
        if not self.literal_plus:
            self._submit_sync(token, flag_part + date_part, body)
            return
        if self._open_tag is None:
            while len(self.in_flight) >= self.depth:
                s.flush_io()
                self._read_one()
            self._open_tag = s.next_tag()
            head = self._open_tag + b" APPEND " + self.mailbox
        else:
            head = b""
        piece = head + b" " + flag_part + date_part + b" {%d+}\r\n" % len(body)
        with s.io():
            if len(body) < 65536:
                s.write(piece + body)
            else:
                s.write(piece)
                s.write(body)
        self._open_tokens.append(token)
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

    def _submit_sync(self, token: int, args: bytes, body: bytes) -> None:
        s = self.s
        tag = s.next_tag()
        with s.io():
            s.write(tag + b" APPEND " + self.mailbox + b" " + args + b" {%d}\r\n" % len(body))
            s.flush()
        self.in_flight[tag] = [token]
        while True:
            resp = s.read_response()
            if resp.first.startswith(b"+"):
                break
            if self._complete(resp) and tag not in self.in_flight:
                return  # refused before the literal was sent (e.g. TOOBIG)
        with s.io():
            s.write(body + b"\r\n")

    def _read_one(self) -> None:
        while not self._complete(self.s.read_response()):
            pass

    def _complete(self, resp: RawResponse) -> bool:
        first = resp.first
        if first.startswith(b"* BYE"):
            self.s.raise_for_bye(parse_status_response(first), "server closed the session")
        tokens = self.in_flight.pop(resp.tag, None)
        if tokens is None:
            return False
        st = parse_status_response(first)
        if st is None:
            raise ProtocolError(f"unparsable completion {first[:100]!r}", **self.s.error_context())
        self.done.append(AppendResult(tokens, st))
        return True

    def drain(self) -> list[AppendResult]:
        """Finish the open group, wait for every command in flight; return all completions."""
        self._close_group()
        self.s.flush_io()
        while self.in_flight:
            self._read_one()
        out, self.done = self.done, []
        return out
