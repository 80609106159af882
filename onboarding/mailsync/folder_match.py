"""Step 3 of a changed folder: match by content when the UID map cannot be trusted (I8, I9).

That is when there is no state but a non-empty destination folder, after a UIDVALIDITY
change, or when a killed run left intents without confirmation. The destination folder is
indexed by content identity (Message-ID + INTERNALDATE + size, or a body hash) and matched
messages are "already present": never a blind re-copy, never a deletion (I1). The same index
finds the destination UIDs a server without UIDPLUS did not report, so flags can follow (I4).
"""

from __future__ import annotations

from collections.abc import Callable

from onboarding.mailsync.folder_work import FlagUpdates, FolderWork, SourceMessage
from onboarding.mailsync.identity import identity_key, internaldate_epoch
from onboarding.mailsync.matching import DestinationIndex, source_body_keys, source_message_ids
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
    index = DestinationIndex(work.dst, work.d_info.exists)
    index.hash_for_keys(row.identity or "" for _m, row in pending)
    for m, row in pending:
        found = index.take(row.identity or "")
        if found is not None:
            kept, _ = work.filter.split(m.flags)
            flag_updates[kept].append((found[0], m, row.identity, row.state))


def match_by_identity(
    work: FolderWork, todo: list[SourceMessage], flag_updates: FlagUpdates
) -> list[SourceMessage]:
    """Index the destination folder by content; return the messages it does not hold."""
    src, c = work.src, work.counts
    index = DestinationIndex(work.dst, work.d_info.exists, exclude=work.mapped_dst)
    src_mid = source_message_ids(src, [m.uid for m in todo])
    # Without a Message-ID, only a same-date same-size candidate is worth a body hash.
    need_hash = [
        m
        for m in todo
        if not src_mid.get(m.uid)
        and index.has_candidates(internaldate_epoch(m.internaldate), m.size)
    ]
    if need_hash:
        index.hash_candidates((internaldate_epoch(m.internaldate), m.size) for m in need_hash)
        hashes = source_body_keys(src, [m.uid for m in need_hash])
        for m in need_hash:
            m.body_hash = hashes.get(m.uid, "")
    rows: list[MessageRow] = []
    remaining: list[SourceMessage] = []
    matched_keys: dict[str, int] = {}
    for m in todo:
        mid = src_mid.get(m.uid)
        if not mid and not m.body_hash:
            remaining.append(m)  # no Message-ID and no candidate: not at the destination
            continue
        k = identity_key(mid, internaldate_epoch(m.internaldate), m.size, m.body_hash)
        found = index.take(k)
        if found is not None:
            dst_uid, dflags = found
            matched_keys[k] = dst_uid
            work.key_dst[k] = dst_uid
            work.present(m)
            rows.append(MessageRow(m.uid, dst_uid, k, flags_text(m.flags), DONE))
            kept, _ = work.filter.split(m.flags)
            if set(kept) != set(dflags):
                flag_updates[kept].append((dst_uid, m, k, DONE))
        elif k in matched_keys:
            c.dups += 1
            rows.append(MessageRow(m.uid, matched_keys[k], k, flags_text(m.flags), DUP))
        else:
            remaining.append(m)
    work.save(rows)
    return remaining
