"""Sync of one changed folder (steps 2-4 of a pass; step 1 is in :mod:`.sync`).

2. EXAMINE the source (never SELECT: I6). After a complete pass with the same UIDVALIDITYs and
   CONDSTORE, read only what changed: new UIDs, pending ones, and flags changed since the
   stored HIGHESTMODSEQ (the "delta" scan); otherwise (or after an expunge) list every
   message's UID, FLAGS, size and INTERNALDATE (:mod:`.folder_scan`). Messages mapped in the
   state store (same UIDVALIDITY on both sides, I9) are "already present"; if their source
   flags changed, the destination gets a STORE (I4).
3. When the map cannot be trusted (the destination folder holds more messages than the state
   has copies for: no state, a lost or rolled-back state store, mail delivered there; a
   UIDVALIDITY change; intents without confirmation from a killed run) the destination's
   unaccounted messages are matched by content and found ones are "already present"
   (:mod:`.folder_match`).
4. The rest is copied in batches and a sample is read back (:mod:`.folder_copy`). What was
   skipped or failed stays pending in the state, and every pass retries it.

The steps share one :class:`~.folder_work.FolderWork`; what the pass counts across folders
(progress, lease, byte budget) is the run's :class:`~.tracker.PassTracker`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from onboarding.mailsync._exceptions import ProtocolError
from onboarding.mailsync.folder_copy import UID_CHUNK, FolderCopy
from onboarding.mailsync.folder_match import match_by_identity, resolve_destination_uids, settle
from onboarding.mailsync.folder_scan import delta_scan, list_source
from onboarding.mailsync.folder_work import FlagUpdates, FolderWork, SourceMessage
from onboarding.mailsync.identity import ContentKey
from onboarding.mailsync.models import FolderOutcome, MessageProblem, SyncOptions
from onboarding.mailsync.state import (
    DONE,
    DUP,
    INTENT,
    PENDING,
    FolderState,
    MessageRow,
    flags_text,
)
from onboarding.mailsync.tracker import PassTracker
from onboarding.mailsync.wire import chunked, uid_set

__all__ = ["FolderSync"]


@dataclass
class FolderSync:
    """The changed-folder path of one folder (see the module docstring, steps 2-4)."""

    work: FolderWork
    tracker: PassTracker
    opt: SyncOptions
    sleep: Callable[[float], None]

    def run(self) -> tuple[FolderOutcome, list[MessageProblem]]:
        """Sync the folder; returns its outcome and the per-message problems (I11)."""
        w = self.work
        c, s_info = w.counts, w.s_info
        w.state.forget_other_validity(w.key, w.plan.source, s_info.uidvalidity)
        rows = w.state.messages(w.rows_key)
        delta = delta_scan(w, rows)
        scan: Literal["delta", "full"]
        if delta is not None:
            scan = "delta"
            todo_new, listing = delta
            listed_count = s_info.exists
        else:
            scan = "full"
            todo_new = []
            listing = list_source(w.src, b"1:*") if s_info.exists else []
            c.in_scope = listed_count = len(listing)
        copies = 0  # destination messages the state accounts for
        for known in rows.values():
            if known.state in (DONE, DUP) and known.identity and known.digest:
                w.key_dst[ContentKey(known.identity, known.digest)] = known.dst_uid
            if known.state == DONE:
                copies += 1
                if known.dst_uid is not None:
                    w.mapped_dst.add(known.dst_uid)  # a source duplicate's row shares its uid
        unconfirmed = any(known.state == INTENT for known in rows.values())
        if unconfirmed:
            settle(w, self.sleep)
        if w.d_info.exists > copies:  # other source folders may be merged into this one
            copies, uids = w.state.destination_copies(w.key, w.dname, w.d_info.uidvalidity)
            w.mapped_dst |= uids
        # More messages there than the state has copies for: the state was lost or rolled
        # back (a restored backup, a power loss), or mail arrived there. Reconcile first (I1).
        identity_mode = unconfirmed or w.d_info.exists > copies
        w.dest_alters = self.tracker.dest_alters
        flag_updates: FlagUpdates = defaultdict(list)
        todo: list[SourceMessage] = list(todo_new)
        no_uid: list[tuple[SourceMessage, MessageRow]] = []
        for m in listing:
            row = rows.get(m.uid)
            if row is not None and row.state in (DONE, DUP):
                if scan == "full":
                    if row.state == DUP:
                        c.dups += 1
                    else:
                        w.present(m)
                # A duplicate's row points at its original's copy: only the original's flags
                # are carried, or two differently flagged twins would overwrite each other.
                if row.state == DONE and row.flags != flags_text(m.flags):
                    if row.dst_uid is None:
                        no_uid.append((m, row))
                    else:
                        kept, _ = w.filter.split(m.flags)
                        flag_updates[kept].append(
                            (row.dst_uid, m, row.identity, row.state, row.digest)
                        )
            elif scan == "full":
                todo.append(m)
        todo = w.drop_elsewhere(todo)
        if no_uid:
            resolve_destination_uids(w, no_uid, flag_updates)
        if identity_mode and todo:
            c.identity_matched = True
            todo = match_by_identity(w, todo, flag_updates)
        self._store_flags(flag_updates)
        copier = FolderCopy(w, self.tracker, self.opt)
        copier.copy(todo)
        copier.verify_sample()
        if any(p.error_class == "DateNotKept" for p in c.problems):
            w.dest_alters = True
        self.tracker.dest_alters = w.dest_alters
        w.save(
            MessageRow(m.uid, None, None, flags_text(m.flags), PENDING) for m in w.pending.values()
        )
        w.state.save_folder_state(
            w.key,
            FolderState(
                src_folder=w.plan.source,
                src_uidvalidity=s_info.uidvalidity,
                src_uidnext=s_info.uidnext,
                src_modseq=s_info.highestmodseq,
                src_messages=s_info.exists,
                dst_folder=w.dname,
                dst_uidvalidity=w.d_info.uidvalidity,
                complete=listed_count == s_info.exists,
                present=c.present + c.copied + c.altered,
                dups=c.dups,
                skipped=c.skipped,
                pending=len(w.pending),
            ),
        )
        return w.outcome(scan), c.problems

    # -- flags (I4) -----------------------------------------------------------------------

    def _store_flags(self, updates: FlagUpdates) -> None:
        w = self.work
        rows: list[MessageRow] = []
        for kept, items in updates.items():
            uids = [item[0] for item in items]
            for chunk in chunked(uids, UID_CHUNK):
                try:
                    w.dst.uid_store_flags(uid_set(chunk), kept)
                except ProtocolError:
                    # A keyword the destination refuses: keep system flags, count the rest.
                    system = tuple(f for f in kept if f.startswith("\\"))
                    w.dst.uid_store_flags(uid_set(chunk), system)
                    w.counts.dropped_flags += len(chunk) * (len(kept) - len(system))
            w.counts.flags_updated += len(uids)
            for dst_uid, m, ident, row_state, digest in items:
                rows.append(
                    MessageRow(m.uid, dst_uid, ident, flags_text(m.flags), row_state, digest)
                )
        w.save(rows)
