"""Step 2 of a changed folder: read what the source holds, in full or only what changed.

A full listing asks for every message's UID, FLAGS, size and INTERNALDATE. After a complete
pass with the same UIDVALIDITYs on both sides and CONDSTORE on the source, the "delta" scan
reads only the new UIDs, the pending ones (skipped or failed before: retried every pass) and
the flags changed since the stored HIGHESTMODSEQ (RFC 7162).
The source is only ever read (EXAMINE, never SELECT: I6).
"""

from __future__ import annotations

from onboarding.mailsync.connection import token_text
from onboarding.mailsync.flags import listed_flags
from onboarding.mailsync.folder_work import FolderWork, SourceMessage
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.state import PENDING, MessageRow
from onboarding.mailsync.wire import uid_set

__all__ = ["delta_scan", "list_source"]

_LIST_ITEMS = b"(UID FLAGS RFC822.SIZE INTERNALDATE)"


def list_source(src: ImapSession, uids: bytes) -> list[SourceMessage]:
    """UID, FLAGS, size and INTERNALDATE of the source messages in ``uids`` (``b"1:*"``)."""
    out: list[SourceMessage] = []
    for it in src.uid_fetch(uids, _LIST_ITEMS):
        if "RFC822.SIZE" not in it or "INTERNALDATE" not in it:
            continue  # an unsolicited flag update from another session, not our answer
        out.append(
            SourceMessage(
                uid=int(token_text(it["UID"])),
                flags=listed_flags(it.get("FLAGS")),
                size=int(token_text(it.get("RFC822.SIZE")) or 0),
                internaldate=token_text(it.get("INTERNALDATE")),
            )
        )
    return out


def delta_scan(
    work: FolderWork, rows: dict[int, MessageRow]
) -> tuple[list[SourceMessage], list[SourceMessage]] | None:
    """New and pending messages, and flag changes since the last complete pass, without a
    full listing.

    Possible when that pass saw the same UIDVALIDITY on both sides and the source offers
    CONDSTORE (RFC 7162: ``CHANGEDSINCE``). Returns None when only a full listing can
    account for every message: something was expunged, an earlier attempt of this run left
    rows for new UIDs, or the pending rows are not what the folder state counted (a store
    from before they were kept). On success the counts start from the stored folder state;
    the pending messages are listed again and counted by this pass.
    """
    fs, s, src = work.fs, work.s_info, work.src
    pending = [uid for uid, row in rows.items() if row.state == PENDING]
    if (
        fs is None
        or not fs.complete
        or fs.src_uidvalidity != s.uidvalidity
        or fs.dst_folder != work.dname
        or fs.dst_uidvalidity != work.d_info.uidvalidity
        or fs.src_modseq is None
        or s.highestmodseq is None
        or "CONDSTORE" not in src.capabilities
        or any(uid >= fs.src_uidnext for uid in rows)
        or len(pending) != fs.pending
    ):
        return None
    new: list[SourceMessage] = []
    if s.uidnext > fs.src_uidnext:
        # "n:*" also returns the last message when n is past it (RFC 3501 §6.4.8): filter.
        new = [
            m
            for m in list_source(src, b"%d:*" % fs.src_uidnext)
            if fs.src_uidnext <= m.uid < s.uidnext
        ]
    if s.exists - len(new) != fs.src_messages:
        return None
    retry = list_source(src, uid_set(pending)) if pending else []
    if len(retry) != len(pending):
        return None
    changed: list[SourceMessage] = []
    if s.highestmodseq != fs.src_modseq and fs.src_uidnext > 1:
        items = b"(UID FLAGS) (CHANGEDSINCE %d)" % fs.src_modseq
        for it in src.uid_fetch(b"1:%d" % (fs.src_uidnext - 1), items):
            uid = int(token_text(it["UID"]))
            if "FLAGS" in it and uid in rows:
                changed.append(SourceMessage(uid, listed_flags(it.get("FLAGS")), 0, ""))
    c = work.counts
    c.present, c.dups = fs.present, fs.dups
    c.in_scope = s.exists
    return sorted(retry + new, key=lambda m: m.uid), changed
