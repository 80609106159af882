"""Content identity on the wire: index a destination folder, read source identities (I8, I9).

Used when UIDs cannot be trusted: no state yet but a non-empty destination folder, a
UIDVALIDITY change, intents without confirmation, or a server without UIDPLUS. Only headers are
read, except for messages without a Message-ID that have a same-date, same-size candidate on
the other side: those are compared by a SHA-256 of their bytes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from onboarding.mailsync.connection import token_text
from onboarding.mailsync.flags import listed_flags
from onboarding.mailsync.identity import (
    body_key,
    identity_key,
    internaldate_epoch,
    message_id_from_header,
)
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.wire import chunked, uid_set

__all__ = ["DestinationIndex", "source_body_keys", "source_message_ids"]

_IDENT_ITEMS = b"(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
_UID_CHUNK = 2000

Entry = tuple[int, tuple[str, ...]]  # destination UID, its flags (no \Recent)


class DestinationIndex:
    """A destination folder's messages by identity key; each entry can be taken once."""

    def __init__(self, dst: ImapSession, exists: int, *, exclude: set[int] | None = None) -> None:
        """Read the selected folder's identities; ``exclude`` UIDs are already accounted for
        (mapped to other source messages) and never match again."""
        self.dst = dst
        skip = exclude or set()
        self.by_key: dict[str, list[Entry]] = defaultdict(list)
        self.no_message_id: dict[tuple[int, int], list[Entry]] = defaultdict(list)
        if not exists:
            return
        for it in dst.uid_fetch(b"1:*", _IDENT_ITEMS):
            if "RFC822.SIZE" not in it or "INTERNALDATE" not in it:
                continue  # an unsolicited flag update, not our answer
            uid = int(token_text(it["UID"]))
            if uid in skip:
                continue
            size = int(token_text(it.get("RFC822.SIZE")) or 0)
            when = internaldate_epoch(token_text(it.get("INTERNALDATE")))
            head = it.get("HEADER")
            mid = message_id_from_header(head) if isinstance(head, bytes) else None
            entry = (uid, listed_flags(it.get("FLAGS")))
            if mid:
                self.by_key[identity_key(mid, when, size, "")].append(entry)
            else:
                self.no_message_id[(when, size)].append(entry)

    def has_candidates(self, when: int, size: int) -> bool:
        """True if a message without Message-ID with this date and size exists here."""
        return (when, size) in self.no_message_id

    def hash_candidates(self, wanted: Iterable[tuple[int, int]]) -> None:
        """Add body-hash keys for the Message-ID-less messages with these (date, size)."""
        for when, size in set(wanted):
            for uid, flags in self.no_message_id.pop((when, size), []):
                for it in self.dst.uid_fetch(b"%d" % uid, b"(UID BODY.PEEK[])"):
                    body = it.get("BODY[]")
                    if isinstance(body, bytes):
                        self.by_key[identity_key(None, when, size, body_key(body))].append(
                            (uid, flags)
                        )

    def hash_for_keys(self, keys: Iterable[str]) -> None:
        """Prepare body-hash lookups for stored identity keys of the ``sha256:`` kind."""
        wanted = []
        for key in keys:
            if key.startswith("sha256:"):
                _h, when, size = key.rsplit("|", 2)
                wanted.append((int(when), int(size)))
        self.hash_candidates(wanted)

    def take(self, key: str) -> Entry | None:
        """Remove and return one destination message with this identity, if any."""
        candidates = self.by_key.get(key)
        return candidates.pop(0) if candidates else None


def source_message_ids(src: ImapSession, uids: list[int]) -> dict[int, str | None]:
    """Message-IDs of source messages (headers only, BODY.PEEK: nothing marked \\Seen)."""
    out: dict[int, str | None] = {}
    for chunk in chunked(uids, _UID_CHUNK):
        for it in src.uid_fetch(uid_set(chunk), b"(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"):
            head = it.get("HEADER")
            if isinstance(head, bytes):
                out[int(token_text(it["UID"]))] = message_id_from_header(head)
    return out


def source_body_keys(src: ImapSession, uids: list[int]) -> dict[int, str]:
    """Body-hash identities of source messages (whole bodies, in small chunks)."""
    out: dict[int, str] = {}
    for chunk in chunked(uids, 200):
        for it in src.uid_fetch(uid_set(chunk), b"(UID BODY.PEEK[])"):
            body = it.get("BODY[]")
            if isinstance(body, bytes):
                out[int(token_text(it["UID"]))] = body_key(body)
    return out
