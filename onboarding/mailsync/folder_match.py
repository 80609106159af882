"""Step 3 of a changed folder: match by content when the UID map cannot be trusted (I8, I9).

That is when the destination folder holds more messages than the state accounts for (no
state yet, a state store lost or rolled back, mail delivered there), after a UIDVALIDITY
change, or when a killed run left intents without confirmation. The destination's
unaccounted messages are indexed and matched messages are "already present": never a blind
re-copy, never a deletion (I1). The same matching finds the destination UIDs a server without
UIDPLUS did not report, so flags can follow (I4).

How a source message is found (issue 14: a Message-ID is a hint, only bytes are identity):

1. Message-ID + INTERNALDATE + size, unique on both sides: the same message (the cheap path,
   headers only).
2. Otherwise, the same Message-ID with another date or size, or a key shared by several
   messages: both sides' bytes are compared (line-ending-insensitive SHA-256), so a
   destination that sets its own INTERNALDATE or changes line endings still finds its copy,
   and two different messages sharing a Message-ID are never merged. Once such a
   destination is seen (``FolderWork.dest_alters``), a Message-ID and stored size unique on
   both sides suffice and the date is ignored.
3. Without a Message-ID only the bytes decide, against same-date same-size candidates, or
   against every such message where dates or sizes are not known to be kept.

A source message byte-identical to one found there is a source duplicate.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from onboarding.mailsync.folder_work import FlagUpdates, FolderWork, SourceMessage
from onboarding.mailsync.identity import ContentKey, identity_key, internaldate_epoch
from onboarding.mailsync.matching import (
    DestEntry,
    DestinationIndex,
    source_digests,
    source_message_ids,
)
from onboarding.mailsync.state import DONE, DUP, MessageRow, flags_text

__all__ = ["match_by_identity", "resolve_destination_uids", "settle"]


def settle(
    work: FolderWork, sleep: Callable[[float], None], *, interval: float = 0.5, rounds: int = 10
) -> None:
    """Let a cut-off earlier session finish storing before the destination is searched.

    A server may still be committing an APPEND it fully received when the connection
    broke (or the client was killed); searching before that lands would copy those
    messages twice. Wait until the folder's UIDNEXT holds still, then re-SELECT.
    """
    last = work.d_info.uidnext
    for _ in range(rounds):
        sleep(interval)
        status = work.dst.status_many([work.dname], ["UIDNEXT"]).get(work.dname, {})
        now = status.get("UIDNEXT", last)
        if now == last:
            break
        last = now
    work.d_info = work.dst.select(work.dname, readonly=False)


def resolve_destination_uids(
    work: FolderWork,
    pending: list[tuple[SourceMessage, MessageRow]],
    flag_updates: FlagUpdates,
) -> None:
    """Find destination UIDs the server did not report (no UIDPLUS) so flags can follow."""
    index = DestinationIndex(work.dst, work.d_info.exists, exclude=work.mapped_dst)
    hits = _Matcher(work, index).find([m for m, _row in pending]) if len(index) else {}
    for m, row in pending:
        hit = hits.get(m.uid)
        if hit is not None and hit.entry is not None:
            kept, _ = work.filter.split(m.flags)
            flag_updates[kept].append(
                (hit.dst_uid, m, row.identity, row.state, row.digest or hit.digest)
            )


def match_by_identity(
    work: FolderWork, todo: list[SourceMessage], flag_updates: FlagUpdates
) -> list[SourceMessage]:
    """Index the destination's unaccounted messages; return the ones it does not hold."""
    c = work.counts
    index = DestinationIndex(work.dst, work.d_info.exists, exclude=work.mapped_dst)
    if not len(index):
        return todo
    hits = _Matcher(work, index).find(todo)
    rows: list[MessageRow] = []
    remaining: list[SourceMessage] = []
    for m in todo:
        hit = hits.get(m.uid)
        if hit is None:
            remaining.append(m)
            continue
        if hit.digest:
            work.key_dst[ContentKey(hit.identity, hit.digest)] = hit.dst_uid
        flags = flags_text(m.flags)
        if hit.entry is None:  # byte-identical to a message found there: a source duplicate
            c.dups += 1
            rows.append(MessageRow(m.uid, hit.dst_uid, hit.identity, flags, DUP, hit.digest))
            continue
        work.present(m)
        work.mapped_dst.add(hit.dst_uid)
        rows.append(MessageRow(m.uid, hit.dst_uid, hit.identity, flags, DONE, hit.digest))
        kept, _ = work.filter.split(m.flags)
        if set(kept) != set(hit.entry.flags):
            flag_updates[kept].append((hit.dst_uid, m, hit.identity, DONE, hit.digest))
    work.save(rows)
    return remaining


@dataclass(frozen=True, slots=True)
class _Hit:
    """A source message found at the destination: its copy (``entry``), or for a source
    duplicate (``entry`` None) its twin's copy; ``digest`` when its bytes were read."""

    dst_uid: int
    identity: str
    digest: str | None
    entry: DestEntry | None


class _Matcher:
    """Finds source messages among a destination index (the module docstring's rules)."""

    def __init__(self, work: FolderWork, index: DestinationIndex) -> None:
        self.work = work
        self.index = index
        self.hits: dict[int, _Hit] = {}
        self.found_by_content: dict[ContentKey, int] = {}  # → destination UID

    def find(self, todo: list[SourceMessage]) -> dict[int, _Hit]:
        """Source UID → where it is, for the messages of ``todo`` the destination holds."""
        w, index = self.work, self.index
        mids = source_message_ids(w.src, [m.uid for m in todo])
        keys: dict[int, str] = {}
        for m in todo:
            mid = mids.get(m.uid)
            if mid:
                keys[m.uid] = identity_key(mid, internaldate_epoch(m.internaldate), m.size, "")
        per_key = Counter(keys.values())
        per_mid = Counter(mids[uid] for uid in keys)
        by_content: list[SourceMessage] = []
        exact = 0
        for m in todo:
            k = keys.get(m.uid)
            if k is None:
                continue
            mid = mids[m.uid] or ""
            same = index.exact(k)
            if per_key[k] == 1 and len(same) == 1:
                self._found(m, same[0], k, None)
                exact += 1
                continue
            others = index.with_message_id(mid)
            unique = per_mid[mid] == 1 and len(others) == 1
            if w.dest_alters and unique and others[0].size == m.size:
                self._found(m, others[0], k, None)  # the destination's own date is ignored
                continue
            if others:
                by_content.append(m)
        self._by_content(by_content, mids)
        tolerant = w.dest_alters or exact == 0  # dates and sizes not known to be kept
        without = [
            m
            for m in todo
            if m.uid not in keys
            and (
                index.without_message_id(internaldate_epoch(m.internaldate), m.size)
                or (tolerant and index.without_message_id())
            )
        ]
        self._by_content(without, mids)
        return self.hits

    def _found(self, m: SourceMessage, entry: DestEntry, identity: str, digest: str | None) -> None:
        self.index.take(entry)
        self.hits[m.uid] = _Hit(entry.uid, identity, digest, entry)
        if digest:
            self.found_by_content[ContentKey(identity, digest)] = entry.uid

    def _by_content(self, msgs: list[SourceMessage], mids: dict[int, str | None]) -> None:
        """Settle ``msgs`` by their bytes against the candidates the index holds for them."""
        if not msgs:
            return
        index = self.index
        candidates: dict[int, DestEntry] = {}
        for m in msgs:
            mid = mids.get(m.uid)
            for e in index.with_message_id(mid) if mid else index.without_message_id():
                candidates[e.uid] = e
        index.read_digests(candidates.values())
        by_digest: defaultdict[str, list[DestEntry]] = defaultdict(list)
        for uid in sorted(candidates):
            if uid in index.digests:
                by_digest[index.digests[uid]].append(candidates[uid])
        src = source_digests(self.work.src, [m.uid for m in msgs])
        for m in sorted(msgs, key=lambda m: m.uid):
            if m.uid not in src:
                continue  # gone from the source: the copy step accounts for it
            exact_digest, normalized = src[m.uid]
            mid = mids.get(m.uid)
            when = internaldate_epoch(m.internaldate)
            ident = identity_key(mid, when, m.size, "" if mid else "sha256:" + exact_digest)
            entry = next((e for e in by_digest.get(normalized, ()) if e.uid in index.entries), None)
            if entry is not None:
                self._found(m, entry, ident, exact_digest)
                if entry.when != when or entry.size != m.size:
                    self.work.dest_alters = True  # it sets its own date or alters bytes
                continue
            twin = self.found_by_content.get(ContentKey(ident, exact_digest))
            if twin is not None:
                self.hits[m.uid] = _Hit(twin, ident, exact_digest, None)
