"""After a folder's copy: read a sample back and check INTERNALDATE and flags were kept (I5, I4).

A destination that ignores APPEND's date is reported as a capability problem; one that drops
flags given in APPEND (Office 365 and ``\\Flagged``) gets them again by STORE. (Every copied
message's stored size is checked as it is appended, in :mod:`.folder_copy`.)
"""

from __future__ import annotations

from collections import defaultdict

from onboarding.mailsync.connection import token_text
from onboarding.mailsync.flags import listed_flags
from onboarding.mailsync.folder_work import FolderWork, SourceMessage
from onboarding.mailsync.identity import internaldate_epoch
from onboarding.mailsync.wire import chunked, uid_set

__all__ = ["UID_CHUNK", "verify_sample"]

UID_CHUNK = 2000  # UIDs per STORE command


def verify_sample(w: FolderWork, copied_to: list[tuple[SourceMessage, int]]) -> None:
    """Read back the first and last of ``copied_to`` ((source message, destination UID))."""
    if not copied_to:
        return
    sample = {uid: m for m, uid in (copied_to[0], copied_to[-1])}
    date_bad: SourceMessage | None = None
    flags_bad: SourceMessage | None = None
    for it in w.dst.uid_fetch(uid_set(sample), b"(UID FLAGS INTERNALDATE)"):
        m = sample.get(int(token_text(it["UID"])))
        if m is None or "INTERNALDATE" not in it:
            continue
        if m.internaldate and internaldate_epoch(token_text(it.get("INTERNALDATE"))) != (
            internaldate_epoch(m.internaldate)
        ):
            date_bad = m
        kept, _ = w.filter.split(m.flags)
        if set(kept) != set(listed_flags(it.get("FLAGS"))):
            flags_bad = m
    if date_bad is not None:
        w.problem(
            date_bad,
            "capability",
            "DateNotKept",
            "the destination did not keep the INTERNALDATE sent with APPEND",
            None,
        )
    if flags_bad is not None:
        w.problem(
            flags_bad,
            "capability",
            "FlagsNotKept",
            "the destination dropped flags sent with APPEND; they were set again by STORE",
            None,
        )
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for m, uid in copied_to:
            groups[w.filter.split(m.flags)[0]].append(uid)
        for kept, uids in groups.items():
            for chunk in chunked(uids, UID_CHUNK):
                w.dst.uid_store_flags(uid_set(chunk), kept)
