"""Sync of one changed folder (steps 2-4 of a pass; step 1 is in :mod:`.sync`).

2. EXAMINE the source (never SELECT: I6). After a complete pass with the same UIDVALIDITYs and
   CONDSTORE, read only what changed: new UIDs, and flags changed since the stored
   HIGHESTMODSEQ (the "delta" scan); otherwise (or after an expunge) list every message's UID,
   FLAGS, size and INTERNALDATE. Messages mapped in the state store (same UIDVALIDITY on both
   sides, I9) are "already present"; if their source flags changed, the destination gets a
   STORE (I4).
3. When the map cannot be trusted (no state but a non-empty destination folder, a UIDVALIDITY
   change, or intents without confirmation from a killed run) the destination folder is indexed
   by content identity (Message-ID + INTERNALDATE + size, or a body hash) and matched messages
   are "already present": never a blind re-copy, never a deletion (I1, I8, I9).
4. The rest is copied in batches: intents are recorded, the batch is streamed from the source
   with BODY.PEEK[] one message at a time and APPENDed pipelined with the original bytes, flags
   and INTERNALDATE (I3, I4, I5); confirmations with APPENDUID are recorded after. Per-message
   refusals are recorded with their reason and the folder goes on (I11). A sample of the copied
   messages is read back to check that the destination kept INTERNALDATE and flags (I5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from onboarding.mailsync._exceptions import ProtocolError, Throttled
from onboarding.mailsync.append import AppendPipeline
from onboarding.mailsync.flags import FlagFilter
from onboarding.mailsync.identity import (
    body_key,
    identity_key,
    internaldate_epoch,
    message_id_from_message,
)
from onboarding.mailsync.imap import ImapSession, SelectInfo, throttle_seconds
from onboarding.mailsync.matching import DestinationIndex, source_body_keys, source_message_ids
from onboarding.mailsync.models import FolderOutcome, FolderPlan, MessageProblem
from onboarding.mailsync.plan import size_limit
from onboarding.mailsync.problems import FIXES, classify_refusal, describe
from onboarding.mailsync.state import DONE, DUP, INTENT, FolderState, MessageRow, flags_text
from onboarding.mailsync.wire import Token, chunked, uid_set

if TYPE_CHECKING:
    from onboarding.mailsync.sync import _Run

__all__ = ["FolderSync"]

_LIST_ITEMS = b"(UID FLAGS RFC822.SIZE INTERNALDATE)"
_UID_CHUNK = 2000


@dataclass(slots=True)
class _Src:
    uid: int
    flags: tuple[str, ...]
    size: int
    internaldate: str
    body_hash: str = ""


@dataclass
class _Counts:
    in_scope: int = 0
    copied: int = 0
    present: int = 0
    dups: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_copied: int = 0
    flags_updated: int = 0
    dropped_flags: int = 0
    identity_matched: bool = False
    problems: list[MessageProblem] = field(default_factory=list)


_FlagUpdates = dict[tuple[str, ...], list[tuple[int, _Src, str | None, str]]]


def _text(tok: Token) -> str:
    return tok.decode("utf-8", "replace") if isinstance(tok, bytes) else ""


def _flags(tok: Token) -> tuple[str, ...]:
    """Flags as listed, without \\Recent (session state, not a message property)."""
    if not isinstance(tok, list):
        return ()
    return tuple(f for f in (_text(t) for t in tok) if f.upper() != "\\RECENT")


class FolderSync:
    """The changed-folder path of one folder (see the module docstring, steps 2-4)."""

    def __init__(
        self,
        run: _Run,
        src: ImapSession,
        dst: ImapSession,
        plan: FolderPlan,
        s_info: SelectInfo,
        d_info: SelectInfo,
        fs: FolderState | None,
    ) -> None:
        self.r = run
        self.src = src
        self.dst = dst
        self.plan = plan
        self.dname = plan.destination or ""
        self.s_info = s_info
        self.d_info = d_info
        self.fs = fs
        self.c = _Counts()
        self.filter = FlagFilter.from_permanent(d_info.permanent_flags)
        self.key_dst: dict[str, int | None] = {}  # identity → destination UID (None: pending)
        self.copied_to: list[tuple[_Src, int]] = []  # (source message, destination UID)
        self.mapped_dst: set[int] = set()  # destination UIDs confirmed for a source message
        self.over_budget = False  # messages left for the next pass (SyncOptions.byte_budget)

    def _save(self, rows: Iterable[MessageRow]) -> None:
        self.r.state.put_messages(
            self.r.key,
            self.plan.source,
            self.s_info.uidvalidity,
            self.dname,
            self.d_info.uidvalidity,
            rows,
        )

    def _problem(self, m: _Src, outcome: str, cls: str, response: str, mid: str | None) -> None:
        self.c.problems.append(
            MessageProblem(
                folder=self.plan.source_display,
                uid=m.uid,
                message_id=mid,
                size=m.size,
                internaldate=m.internaldate,
                outcome=outcome,  # type: ignore[arg-type]
                error_class=cls,
                server_response=response,
                fix=FIXES.get(cls, "see the server response"),
            )
        )

    def _present(self, m: _Src) -> None:
        if m.uid in self.r.sent[self.plan.source]:
            self.c.copied += 1  # appended by an earlier attempt of this same run
            self.c.bytes_copied += m.size
        else:
            self.c.present += 1

    def _list(self, uids: bytes) -> list[_Src]:
        """UID, FLAGS, size and INTERNALDATE of the source messages in ``uids``."""
        out: list[_Src] = []
        for it in self.src.uid_fetch(uids, _LIST_ITEMS):
            if "RFC822.SIZE" not in it or "INTERNALDATE" not in it:
                continue  # an unsolicited flag update from another session, not our answer
            out.append(
                _Src(
                    uid=int(_text(it["UID"])),
                    flags=_flags(it.get("FLAGS")),
                    size=int(_text(it.get("RFC822.SIZE")) or 0),
                    internaldate=_text(it.get("INTERNALDATE")),
                )
            )
        return out

    def _delta(self, rows: dict[int, MessageRow]) -> tuple[list[_Src], list[_Src]] | None:
        """New messages and flag changes since the last complete pass, without a full listing.

        Possible when that pass saw the same UIDVALIDITY on both sides and the source offers
        CONDSTORE (RFC 7162: ``CHANGEDSINCE``). Returns None when only a full listing can
        account for every message: something was expunged, or an earlier attempt of this run
        left rows for new UIDs.
        """
        fs, s = self.fs, self.s_info
        if (
            fs is None
            or not fs.complete
            or fs.src_uidvalidity != s.uidvalidity
            or fs.dst_folder != self.dname
            or fs.dst_uidvalidity != self.d_info.uidvalidity
            or fs.src_modseq is None
            or s.highestmodseq is None
            or "CONDSTORE" not in self.src.capabilities
            or any(uid >= fs.src_uidnext for uid in rows)
        ):
            return None
        new: list[_Src] = []
        if s.uidnext > fs.src_uidnext:
            # "n:*" also returns the last message when n is past it (RFC 3501 §6.4.8): filter.
            new = [
                m
                for m in self._list(b"%d:*" % fs.src_uidnext)
                if fs.src_uidnext <= m.uid < s.uidnext
            ]
        if s.exists - len(new) != fs.src_messages:
            return None
        changed: list[_Src] = []
        if s.highestmodseq != fs.src_modseq and fs.src_uidnext > 1:
            items = b"(UID FLAGS) (CHANGEDSINCE %d)" % fs.src_modseq
            for it in self.src.uid_fetch(b"1:%d" % (fs.src_uidnext - 1), items):
                uid = int(_text(it["UID"]))
                if "FLAGS" in it and uid in rows:
                    changed.append(_Src(uid, _flags(it.get("FLAGS")), 0, ""))
        self.c.present, self.c.dups, self.c.skipped = fs.present, fs.dups, fs.skipped
        self.c.in_scope = s.exists
        return new, changed

    def run(self) -> tuple[FolderOutcome, list[MessageProblem]]:
        r, key = self.r, self.r.key
        r.state.forget_other_validity(key, self.plan.source, self.s_info.uidvalidity)
        rows = r.state.messages(
            key, self.plan.source, self.s_info.uidvalidity, self.dname, self.d_info.uidvalidity
        )
        delta = self._delta(rows)
        scan: Literal["delta", "full"]
        if delta is not None:
            scan = "delta"
            todo_new, listing = delta
            listed_count = self.s_info.exists
        else:
            scan = "full"
            todo_new = []
            listing = self._list(b"1:*") if self.s_info.exists else []
            self.c.in_scope = listed_count = len(listing)
        for known in rows.values():
            if known.state in (DONE, DUP) and known.identity:
                self.key_dst[known.identity] = known.dst_uid
            if known.state == DONE and known.dst_uid is not None:
                self.mapped_dst.add(known.dst_uid)  # a source duplicate's row shares its uid
        unconfirmed = any(known.state == INTENT for known in rows.values())
        if unconfirmed:
            self._settle()
        identity_mode = (not rows and self.d_info.exists > 0) or unconfirmed
        flag_updates: _FlagUpdates = defaultdict(list)
        todo: list[_Src] = list(todo_new)
        no_uid: list[tuple[_Src, MessageRow]] = []
        for m in listing:
            row = rows.get(m.uid)
            if row is not None and row.state in (DONE, DUP):
                if scan == "full":
                    if row.state == DUP:
                        self.c.dups += 1
                    else:
                        self._present(m)
                # A duplicate's row points at its original's copy: only the original's flags
                # are carried, or two differently flagged twins would overwrite each other.
                if row.state == DONE and row.flags != flags_text(m.flags):
                    if row.dst_uid is None:
                        no_uid.append((m, row))
                    else:
                        kept, _ = self.filter.split(m.flags)
                        flag_updates[kept].append((row.dst_uid, m, row.identity, row.state))
            elif scan == "full":
                todo.append(m)
        if no_uid:
            self._resolve_destination_uids(no_uid, flag_updates)
        if identity_mode and todo:
            self.c.identity_matched = True
            todo = self._match_by_identity(todo, flag_updates)
        self._store_flags(flag_updates)
        self._copy(todo)
        self._verify_sample()
        c = self.c
        complete = c.failed == 0 and not self.over_budget
        r.state.save_folder_state(
            key,
            FolderState(
                src_folder=self.plan.source,
                src_uidvalidity=self.s_info.uidvalidity,
                src_uidnext=self.s_info.uidnext,
                src_modseq=self.s_info.highestmodseq,
                src_messages=self.s_info.exists,
                dst_folder=self.dname,
                dst_uidvalidity=self.d_info.uidvalidity,
                complete=complete and listed_count == self.s_info.exists,
                present=c.present + c.copied,
                dups=c.dups,
                skipped=c.skipped,
            ),
        )
        outcome = FolderOutcome(
            source=self.plan.source,
            destination=self.dname,
            in_scope=c.in_scope,
            copied=c.copied,
            already_present=c.present,
            source_duplicates=c.dups,
            skipped=c.skipped,
            failed=c.failed,
            bytes_copied=c.bytes_copied,
            flags_updated=c.flags_updated,
            dropped_flags=c.dropped_flags,
            identity_matched=c.identity_matched,
            scan=scan,
        )
        return outcome, c.problems

    # -- identity matching (I8, I9) -------------------------------------------------------

    def _settle(self, *, interval: float = 0.5, rounds: int = 10) -> None:
        """Let a cut-off earlier session finish storing before the destination is searched.

        A server may still be committing an APPEND it fully received when the connection
        broke (or the client was killed); searching before that lands would copy those
        messages twice. Wait until the folder's UIDNEXT holds still, then re-SELECT.
        """
        last = self.d_info.uidnext
        for _ in range(rounds):
            self.r.sleep(interval)
            status = self.dst.status_many([self.dname], ["UIDNEXT"]).get(self.dname, {})
            now = status.get("UIDNEXT", last)
            if now == last:
                break
            last = now
        self.d_info = self.dst.select(self.dname, readonly=False)

    def _resolve_destination_uids(
        self, pending: list[tuple[_Src, MessageRow]], flag_updates: _FlagUpdates
    ) -> None:
        """Find destination UIDs the server did not report (no UIDPLUS) so flags can follow."""
        index = DestinationIndex(self.dst, self.d_info.exists)
        index.hash_for_keys(row.identity or "" for _m, row in pending)
        for m, row in pending:
            found = index.take(row.identity or "")
            if found is not None:
                kept, _ = self.filter.split(m.flags)
                flag_updates[kept].append((found[0], m, row.identity, row.state))

    def _match_by_identity(self, todo: list[_Src], flag_updates: _FlagUpdates) -> list[_Src]:
        """Index the destination folder by content; return the messages it does not hold."""
        index = DestinationIndex(self.dst, self.d_info.exists, exclude=self.mapped_dst)
        src_mid = source_message_ids(self.src, [m.uid for m in todo])
        # Without a Message-ID, only a same-date same-size candidate is worth a body hash.
        need_hash = [
            m
            for m in todo
            if not src_mid.get(m.uid)
            and index.has_candidates(internaldate_epoch(m.internaldate), m.size)
        ]
        if need_hash:
            index.hash_candidates((internaldate_epoch(m.internaldate), m.size) for m in need_hash)
            hashes = source_body_keys(self.src, [m.uid for m in need_hash])
            for m in need_hash:
                m.body_hash = hashes.get(m.uid, "")
        rows: list[MessageRow] = []
        remaining: list[_Src] = []
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
                self.key_dst[k] = dst_uid
                self._present(m)
                rows.append(MessageRow(m.uid, dst_uid, k, flags_text(m.flags), DONE))
                kept, _ = self.filter.split(m.flags)
                if set(kept) != set(dflags):
                    flag_updates[kept].append((dst_uid, m, k, DONE))
            elif k in matched_keys:
                self.c.dups += 1
                rows.append(MessageRow(m.uid, matched_keys[k], k, flags_text(m.flags), DUP))
            else:
                remaining.append(m)
        self._save(rows)
        return remaining

    # -- flags (I4) -----------------------------------------------------------------------

    def _store_flags(self, updates: _FlagUpdates) -> None:
        rows: list[MessageRow] = []
        for kept, items in updates.items():
            uids = [item[0] for item in items]
            for chunk in chunked(uids, _UID_CHUNK):
                try:
                    self.dst.uid_store_flags(uid_set(chunk), kept)
                except ProtocolError:
                    # A keyword the destination refuses: keep system flags, count the rest.
                    system = tuple(f for f in kept if f.startswith("\\"))
                    self.dst.uid_store_flags(uid_set(chunk), system)
                    self.c.dropped_flags += len(chunk) * (len(kept) - len(system))
            self.c.flags_updated += len(uids)
            for dst_uid, m, ident, row_state in items:
                rows.append(MessageRow(m.uid, dst_uid, ident, flags_text(m.flags), row_state))
        self._save(rows)

    # -- copy (I3, I5, I8) ----------------------------------------------------------------

    def _batches(self, todo: list[_Src]) -> Iterable[list[_Src]]:
        batch: list[_Src] = []
        size = 0
        for m in todo:
            if batch and (
                len(batch) >= self.r.opt.fetch_batch or size + m.size > self.r.opt.fetch_batch_bytes
            ):
                yield batch
                batch, size = [], 0
            batch.append(m)
            size += m.size
        if batch:
            yield batch

    def _copy(self, todo: list[_Src]) -> None:
        limit = size_limit(self.r.opt, self.dst.capabilities)
        copyable: list[_Src] = []
        for m in todo:
            if m.size > limit:
                self.c.skipped += 1
                self._problem(
                    m,
                    "skipped",
                    "TooBig",
                    f"{m.size} bytes is over the limit of {limit} bytes "
                    "(max_message_bytes / destination APPENDLIMIT)",
                    None,
                )
            else:
                copyable.append(m)
        copyable = self._within_budget(copyable)
        for batch in self._batches(copyable):
            self._copy_batch(batch)
            self.r.keep_lease()
            self.r._tick(self.plan.source)

    def _within_budget(self, copyable: list[_Src]) -> list[_Src]:
        """The messages this pass may still copy under ``byte_budget``; the rest are skipped
        with a reason and the folder stays incomplete, so the next pass lists and copies them."""
        budget = self.r.opt.byte_budget
        if budget is None:
            return copyable
        planned = self.r.budget_used
        allowed: list[_Src] = []
        for m in copyable:
            if planned < budget:
                allowed.append(m)
                planned += m.size
            else:
                self.over_budget = True
                self.c.skipped += 1
                self._problem(
                    m, "skipped", "ByteBudget", "byte budget reached; the next pass continues", None
                )
        return allowed

    def _copy_batch(self, batch: list[_Src], *, group: int | None = None) -> None:
        opt = self.r.opt
        meta = {m.uid: m for m in batch}
        self._save(MessageRow(m.uid, None, None, flags_text(m.flags), INTENT) for m in batch)
        self.r.sent[self.plan.source].update(meta)
        pipe = AppendPipeline(
            self.dst,
            self.dname,
            depth=opt.pipeline_depth,
            group=opt.append_group if group is None else group,
        )
        pending: dict[int, tuple[str, str | None, int]] = {}  # uid → (identity, mid, dropped)
        dups: list[tuple[_Src, str, str | None]] = []
        seen = 0
        for it in self.src.uid_fetch(uid_set(meta), b"(UID BODY.PEEK[])"):
            uid = int(_text(it["UID"]))
            body = it.get("BODY[]")
            m = meta.get(uid)
            if m is None or not isinstance(body, bytes):
                continue
            seen += 1
            self.r.keep_lease()
            mid = message_id_from_message(body)
            k = identity_key(
                mid, internaldate_epoch(m.internaldate), m.size, "" if mid else body_key(body)
            )
            if k in self.key_dst:
                dups.append((m, k, mid))
                continue
            self.key_dst[k] = None
            kept, refused = self.filter.split(m.flags)
            pending[uid] = (k, mid, len(refused))
            pipe.submit(uid, kept, m.internaldate or None, body)
            del body, it
        results = pipe.drain()
        done_rows: list[MessageRow] = []
        retry: list[_Src] = []
        isolate: list[_Src] = []
        throttled: float | None = None
        for res in results:
            if res.status.ok:
                for token, dst_uid in zip(res.tokens, res.appended_uids, strict=True):
                    k, _mid, dropped = pending[token]
                    self._confirmed(meta[token], k, dst_uid, dropped, done_rows)
                continue
            wait = throttle_seconds(res.status) if res.status.code != "LIMIT" else None
            if wait is not None:
                throttled = max(throttled or 0.0, wait)  # not the message's fault: redo later
                continue
            if len(res.tokens) > 1:
                # MULTIAPPEND is atomic: nothing was stored; re-send one by one to find why.
                for token in res.tokens:
                    self.key_dst.pop(pending[token][0], None)
                    isolate.append(meta[token])
                continue
            m = meta[res.tokens[0]]
            k, mid, _dropped = pending[res.tokens[0]]
            text = describe(res.status)
            cls = classify_refusal(res.status)
            if cls == "FlagRefused" and FlagFilter.keywords(m.flags):
                self.filter = self.filter.refuse(FlagFilter.keywords(m.flags))
                self._problem(m, "flags-dropped", "FlagRefused", text, mid)
                self.key_dst.pop(k, None)
                retry.append(m)
                continue
            self.key_dst.pop(k, None)
            self.c.failed += 1
            self._problem(m, "failed", cls, text, mid)
        self._save(done_rows)
        if throttled is not None:
            raise Throttled(
                "the destination throttled APPEND",
                backoff_seconds=throttled,
                side="destination",
                host=f"{self.dst.endpoint.host}:{self.dst.endpoint.port}",
            )
        if isolate:
            self._copy_batch(isolate, group=1)
        if retry:
            self._copy_batch(retry, group=1)  # the refused keywords are now filtered out
        for m, k, mid in dups:
            dst_uid = self.key_dst.get(k)
            if k in self.key_dst:
                self.c.dups += 1
                self._save([MessageRow(m.uid, dst_uid, k, flags_text(m.flags), DUP)])
            else:
                self.c.failed += 1
                self._problem(m, "failed", "DuplicateOfFailed", "identical message failed", mid)
        missing = len(batch) - seen
        if missing:
            # Expunged on the source between listing and fetch: no longer in scope.
            self.c.in_scope -= missing

    def _confirmed(
        self, m: _Src, k: str, dst_uid: int | None, dropped: int, rows: list[MessageRow]
    ) -> None:
        self.key_dst[k] = dst_uid
        self.c.copied += 1
        self.c.bytes_copied += m.size
        self.r.budget_used += m.size
        self.c.dropped_flags += dropped
        self.r.done_msgs += 1
        self.r.done_bytes += m.size
        if dst_uid is not None:
            self.copied_to.append((m, dst_uid))
        rows.append(MessageRow(m.uid, dst_uid, k, flags_text(m.flags), DONE))

    # -- read-back check (I5, I4) ---------------------------------------------------------

    def _verify_sample(self) -> None:
        """Read back the first and last copied messages: INTERNALDATE and flags kept?

        A destination that ignores APPEND's date is reported as a capability problem; one that
        drops flags given in APPEND (Office 365 and \\Flagged) gets them again by STORE.
        """
        if not self.copied_to:
            return
        sample = {uid: m for m, uid in (self.copied_to[0], self.copied_to[-1])}
        date_bad: _Src | None = None
        flags_bad: _Src | None = None
        for it in self.dst.uid_fetch(uid_set(sample), b"(UID FLAGS INTERNALDATE)"):
            m = sample.get(int(_text(it["UID"])))
            if m is None or "INTERNALDATE" not in it:
                continue
            if m.internaldate and internaldate_epoch(_text(it.get("INTERNALDATE"))) != (
                internaldate_epoch(m.internaldate)
            ):
                date_bad = m
            kept, _ = self.filter.split(m.flags)
            if set(kept) != set(_flags(it.get("FLAGS"))):
                flags_bad = m
        if date_bad is not None:
            self._problem(
                date_bad,
                "capability",
                "DateNotKept",
                "the destination did not keep the INTERNALDATE sent with APPEND",
                None,
            )
        if flags_bad is not None:
            self._problem(
                flags_bad,
                "capability",
                "FlagsNotKept",
                "the destination dropped flags sent with APPEND; they were set again by STORE",
                None,
            )
            groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
            for m, uid in self.copied_to:
                groups[self.filter.split(m.flags)[0]].append(uid)
            for kept, uids in groups.items():
                for chunk in chunked(uids, _UID_CHUNK):
                    self.dst.uid_store_flags(uid_set(chunk), kept)
