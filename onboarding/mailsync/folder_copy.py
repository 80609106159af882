"""Step 4 of a changed folder: copy what the destination lacks, then read a sample back.

The messages are copied in batches: intents are recorded, the batch is streamed from the
source with BODY.PEEK[] one message at a time and APPENDed pipelined with the original bytes,
flags and INTERNALDATE (I3, I4, I5); confirmations with APPENDUID are recorded after.
Per-message refusals are recorded with their reason and the folder goes on (I11). A sample of
the copied messages is read back to check that the destination kept INTERNALDATE and flags (I5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from onboarding.mailsync._exceptions import Throttled
from onboarding.mailsync.append import AppendPipeline
from onboarding.mailsync.connection import token_text
from onboarding.mailsync.flags import FlagFilter, listed_flags
from onboarding.mailsync.folder_work import FolderWork, SourceMessage
from onboarding.mailsync.identity import (
    body_key,
    identity_key,
    internaldate_epoch,
    message_id_from_message,
)
from onboarding.mailsync.imap import throttle_seconds
from onboarding.mailsync.models import SyncOptions
from onboarding.mailsync.plan import size_limit
from onboarding.mailsync.problems import classify_refusal, describe
from onboarding.mailsync.state import DONE, DUP, INTENT, MessageRow, flags_text
from onboarding.mailsync.tracker import PassTracker
from onboarding.mailsync.wire import chunked, uid_set

__all__ = ["UID_CHUNK", "FolderCopy"]

UID_CHUNK = 2000  # UIDs per STORE command


class FolderCopy:
    """Copies one folder's missing messages; ``over_budget`` says some were left for later."""

    def __init__(self, work: FolderWork, tracker: PassTracker, options: SyncOptions) -> None:
        self.work = work
        self.tracker = tracker
        self.opt = options
        self.copied_to: list[tuple[SourceMessage, int]] = []  # (source message, destination UID)
        self.over_budget = False  # messages left for the next pass (SyncOptions.byte_budget)

    def copy(self, todo: list[SourceMessage]) -> None:
        """Copy ``todo`` (too big or over the byte budget: skipped with a reason)."""
        w = self.work
        limit = size_limit(self.opt, w.dst.capabilities)
        copyable: list[SourceMessage] = []
        for m in todo:
            if not self._in_window(m):
                self.over_budget = True  # left for a later pass, like the byte budget
                w.counts.skipped += 1
                w.problem(m, "skipped", "OutsideDateRange", self._window_text(), None)
            elif m.size > limit:
                w.counts.skipped += 1
                w.problem(
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
            self.tracker.keep_lease()
            self.tracker.tick(w.plan.source)

    def _in_window(self, m: SourceMessage) -> bool:
        """Whether ``m``'s INTERNALDATE is inside ``since``/``before`` (no window: always)."""
        since, before = self.opt.since, self.opt.before
        if since is None and before is None:
            return True
        day = datetime.fromtimestamp(internaldate_epoch(m.internaldate), UTC).date()
        return (since is None or day >= since) and (before is None or day < before)

    def _window_text(self) -> str:
        since, before = self.opt.since, self.opt.before
        window = " and ".join(
            part
            for part in (
                f"on or after {since}" if since else "",
                f"before {before}" if before else "",
            )
            if part
        )
        return f"dated outside this pass's window (only mail {window}); a later pass copies it"

    def _batches(self, todo: list[SourceMessage]) -> Iterable[list[SourceMessage]]:
        batch: list[SourceMessage] = []
        size = 0
        for m in todo:
            if batch and (
                len(batch) >= self.opt.fetch_batch or size + m.size > self.opt.fetch_batch_bytes
            ):
                yield batch
                batch, size = [], 0
            batch.append(m)
            size += m.size
        if batch:
            yield batch

    def _within_budget(self, copyable: list[SourceMessage]) -> list[SourceMessage]:
        """The messages this pass may still copy under ``byte_budget``; the rest are skipped
        with a reason and the folder stays incomplete, so the next pass lists and copies them."""
        budget = self.opt.byte_budget
        if budget is None:
            return copyable
        planned = self.tracker.budget_used
        allowed: list[SourceMessage] = []
        for m in copyable:
            if planned < budget:
                allowed.append(m)
                planned += m.size
            else:
                self.over_budget = True
                self.work.counts.skipped += 1
                self.work.problem(
                    m, "skipped", "ByteBudget", "byte budget reached; the next pass continues", None
                )
        return allowed

    def _copy_batch(self, batch: list[SourceMessage], *, group: int | None = None) -> None:
        w, opt, tracker = self.work, self.opt, self.tracker
        c, key_dst = w.counts, w.key_dst
        meta = {m.uid: m for m in batch}
        w.save(MessageRow(m.uid, None, None, flags_text(m.flags), INTENT) for m in batch)
        w.sent.update(meta)
        pipe = AppendPipeline(
            w.dst,
            w.dname,
            depth=opt.pipeline_depth,
            group=opt.append_group if group is None else group,
        )
        pending: dict[int, tuple[str, str | None, int]] = {}  # uid → (identity, mid, dropped)
        dups: list[tuple[SourceMessage, str, str | None]] = []
        seen = 0
        for it in w.src.uid_fetch(uid_set(meta), b"(UID BODY.PEEK[])"):
            uid = int(token_text(it["UID"]))
            body = it.get("BODY[]")
            m = meta.get(uid)
            if m is None or not isinstance(body, bytes):
                continue
            seen += 1
            tracker.keep_lease()
            mid = message_id_from_message(body)
            k = identity_key(
                mid, internaldate_epoch(m.internaldate), m.size, "" if mid else body_key(body)
            )
            if k in key_dst:
                dups.append((m, k, mid))
                continue
            key_dst[k] = None
            kept, refused = w.filter.split(m.flags)
            pending[uid] = (k, mid, len(refused))
            pipe.submit(uid, kept, m.internaldate or None, body)
            del body, it
        results = pipe.drain()
        done_rows: list[MessageRow] = []
        retry: list[SourceMessage] = []
        isolate: list[SourceMessage] = []
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
                    key_dst.pop(pending[token][0], None)
                    isolate.append(meta[token])
                continue
            m = meta[res.tokens[0]]
            k, mid, _dropped = pending[res.tokens[0]]
            text = describe(res.status)
            cls = classify_refusal(res.status)
            if cls == "FlagRefused" and FlagFilter.keywords(m.flags):
                w.filter = w.filter.refuse(FlagFilter.keywords(m.flags))
                w.problem(m, "flags-dropped", "FlagRefused", text, mid)
                key_dst.pop(k, None)
                retry.append(m)
                continue
            key_dst.pop(k, None)
            c.failed += 1
            w.problem(m, "failed", cls, text, mid)
        w.save(done_rows)
        if throttled is not None:
            raise Throttled(
                "the destination throttled APPEND",
                backoff_seconds=throttled,
                side="destination",
                host=f"{w.dst.endpoint.host}:{w.dst.endpoint.port}",
            )
        if isolate:
            self._copy_batch(isolate, group=1)
        if retry:
            self._copy_batch(retry, group=1)  # the refused keywords are now filtered out
        for m, k, mid in dups:
            dst_uid = key_dst.get(k)
            if k in key_dst:
                c.dups += 1
                w.save([MessageRow(m.uid, dst_uid, k, flags_text(m.flags), DUP)])
            else:
                c.failed += 1
                w.problem(m, "failed", "DuplicateOfFailed", "identical message failed", mid)
        missing = len(batch) - seen
        if missing:
            # Expunged on the source between listing and fetch: no longer in scope.
            c.in_scope -= missing

    def _confirmed(
        self, m: SourceMessage, k: str, dst_uid: int | None, dropped: int, rows: list[MessageRow]
    ) -> None:
        c, tracker = self.work.counts, self.tracker
        self.work.key_dst[k] = dst_uid
        c.copied += 1
        c.bytes_copied += m.size
        tracker.budget_used += m.size
        c.dropped_flags += dropped
        tracker.done_msgs += 1
        tracker.done_bytes += m.size
        if dst_uid is not None:
            self.copied_to.append((m, dst_uid))
        rows.append(MessageRow(m.uid, dst_uid, k, flags_text(m.flags), DONE))

    # -- read-back check (I5, I4) ---------------------------------------------------------

    def verify_sample(self) -> None:
        """Read back the first and last copied messages: INTERNALDATE and flags kept?

        A destination that ignores APPEND's date is reported as a capability problem; one that
        drops flags given in APPEND (Office 365 and \\Flagged) gets them again by STORE.
        """
        if not self.copied_to:
            return
        w = self.work
        sample = {uid: m for m, uid in (self.copied_to[0], self.copied_to[-1])}
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
            for m, uid in self.copied_to:
                groups[w.filter.split(m.flags)[0]].append(uid)
            for kept, uids in groups.items():
                for chunk in chunked(uids, UID_CHUNK):
                    w.dst.uid_store_flags(uid_set(chunk), kept)
