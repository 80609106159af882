"""Content identity on the wire: index a destination folder, read source identities (I8, I9).

Used when UIDs cannot be trusted: no state yet, a destination holding more than the state
accounts for (a lost or rolled-back state store), a UIDVALIDITY change, intents without
confirmation, or a server without UIDPLUS. Only the destination messages not already mapped
are indexed, and only headers are read, except where the bytes must settle it: those
messages are compared by a line-ending-insensitive SHA-256 (:func:`.identity.normalized_digest`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from onboarding.mailsync.connection import token_text
from onboarding.mailsync.flags import listed_flags
from onboarding.mailsync.identity import (
    body_digest,
    identity_key,
    internaldate_epoch,
    message_id_from_header,
    normalized_digest,
)
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.wire import chunked, uid_set

__all__ = ["DestEntry", "DestinationIndex", "source_digests", "source_message_ids"]

_IDENT_ITEMS = b"(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
_UID_CHUNK = 2000
_BODY_CHUNK = 200  # whole messages per FETCH when their bytes are compared


@dataclass(frozen=True, slots=True)
class DestEntry:
    """One destination message as indexed: UID, flags (no \\Recent), Message-ID, date, size."""

    uid: int
    flags: tuple[str, ...]
    message_id: str | None
    when: int
    size: int


class DestinationIndex:
    """A destination folder's unaccounted messages by identity; each can be taken once."""

    def __init__(self, dst: ImapSession, exists: int, *, exclude: set[int] | None = None) -> None:
        """Read the selected folder's identities; ``exclude`` UIDs are already accounted for
        (mapped to source messages): they are not read and never match again."""
        self.dst = dst
        self.entries: dict[int, DestEntry] = {}  # not taken yet
        self.by_key: dict[str, list[int]] = defaultdict(list)
        self.by_mid: dict[str, list[int]] = defaultdict(list)
        self.no_mid: list[int] = []
        self.digests: dict[int, str] = {}  # UID → normalized digest, once read
        if not exists:
            return
        skip = exclude or set()
        if skip:
            wanted = [u for u in dst.uid_search(b"ALL") if u not in skip]
            sets = [uid_set(chunk) for chunk in chunked(wanted, _UID_CHUNK)]
        else:
            sets = [b"1:*"]
        for uids in sets:
            for it in dst.uid_fetch(uids, _IDENT_ITEMS):
                if "RFC822.SIZE" not in it or "INTERNALDATE" not in it:
                    continue  # an unsolicited flag update, not our answer
                uid = int(token_text(it["UID"]))
                if uid in skip:
                    continue
                head = it.get("HEADER")
                mid = message_id_from_header(head) if isinstance(head, bytes) else None
                entry = DestEntry(
                    uid,
                    listed_flags(it.get("FLAGS")),
                    mid,
                    internaldate_epoch(token_text(it.get("INTERNALDATE"))),
                    int(token_text(it.get("RFC822.SIZE")) or 0),
                )
                self.entries[uid] = entry
                if mid:
                    self.by_key[identity_key(mid, entry.when, entry.size, "")].append(uid)
                    self.by_mid[mid].append(uid)
                else:
                    self.no_mid.append(uid)

    def __len__(self) -> int:
        """How many messages are still untaken."""
        return len(self.entries)

    def _untaken(self, uids: Iterable[int]) -> list[DestEntry]:
        return [self.entries[u] for u in uids if u in self.entries]

    def exact(self, key: str) -> list[DestEntry]:
        """Untaken messages whose Message-ID, date and size give identity ``key``."""
        return self._untaken(self.by_key.get(key, ()))

    def with_message_id(self, message_id: str) -> list[DestEntry]:
        """Untaken messages with this Message-ID, whatever their date and size."""
        return self._untaken(self.by_mid.get(message_id, ()))

    def without_message_id(
        self, when: int | None = None, size: int | None = None
    ) -> list[DestEntry]:
        """Untaken messages without a Message-ID (only this date and size, if given)."""
        return [
            e
            for e in self._untaken(self.no_mid)
            if when is None or (e.when == when and e.size == size)
        ]

    def take(self, entry: DestEntry) -> None:
        """Mark ``entry`` as matched: it never matches another source message."""
        self.entries.pop(entry.uid, None)

    def read_digests(self, entries: Iterable[DestEntry]) -> None:
        """Read the normalized digests of ``entries`` not read yet (whole messages)."""
        todo = sorted({e.uid for e in entries} - self.digests.keys())
        for chunk in chunked(todo, _BODY_CHUNK):
            for it in self.dst.uid_fetch(uid_set(chunk), b"(UID BODY.PEEK[])"):
                body = it.get("BODY[]")
                if isinstance(body, bytes):
                    self.digests[int(token_text(it["UID"]))] = normalized_digest(body)


def source_message_ids(src: ImapSession, uids: list[int]) -> dict[int, str | None]:
    """Message-IDs of source messages (headers only, BODY.PEEK: nothing marked \\Seen)."""
    out: dict[int, str | None] = {}
    for chunk in chunked(uids, _UID_CHUNK):
        for it in src.uid_fetch(uid_set(chunk), b"(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"):
            head = it.get("HEADER")
            if isinstance(head, bytes):
                out[int(token_text(it["UID"]))] = message_id_from_header(head)
    return out


def source_digests(src: ImapSession, uids: list[int]) -> dict[int, tuple[str, str]]:
    """``(exact, normalized)`` digests of source messages (whole bodies, in small chunks)."""
    out: dict[int, tuple[str, str]] = {}
    for chunk in chunked(sorted(uids), _BODY_CHUNK):
        for it in src.uid_fetch(uid_set(chunk), b"(UID BODY.PEEK[])"):
            body = it.get("BODY[]")
            if isinstance(body, bytes):
                out[int(token_text(it["UID"]))] = (body_digest(body), normalized_digest(body))
    return out
