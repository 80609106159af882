"""Step 4 of a changed folder: copy what the destination lacks, then read a sample back.

The messages are copied in batches: intents are recorded, the batch is streamed from the
source byte-exact (:mod:`.body_fetch`: ``BODY.PEEK[]``, ``BINARY.PEEK[]`` for NUL bytes) one
message at a time and APPENDed pipelined with the original bytes, flags and INTERNALDATE
(I3, I4, I5); confirmations with APPENDUID are recorded after, once the destination's stored
size of each new UID matched what was sent (a mismatch is a reported item, never "copied").
Per-message refusals are recorded with their reason and the folder goes on (I11); so is a
message the source answers without a body while a fresh UID SEARCH still finds it (a message
really gone is out of scope). A message that makes the destination drop the connection is
isolated and, at the second drop, failed with the server's last words (:mod:`.poison`). A
sample of the copied messages is read back to check INTERNALDATE and flags (:mod:`.folder_verify`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from onboarding.mailsync._exceptions import ConnectionLost, ResponseTooLarge, Throttled
from onboarding.mailsync.append import AppendPipeline, AppendResult
from onboarding.mailsync.body_fetch import BodyReader, close_body
from onboarding.mailsync.date_window import in_window, window_text
from onboarding.mailsync.flags import FlagFilter
from onboarding.mailsync.folder_verify import UID_CHUNK, verify_sample
from onboarding.mailsync.folder_work import FolderWork, SourceMessage
from onboarding.mailsync.identity import (
    ContentKey,
    identity_key,
    internaldate_epoch,
    message_id_from_message,
)
from onboarding.mailsync.imap import throttle_seconds
from onboarding.mailsync.literal import body_head, body_sha256
from onboarding.mailsync.models import SyncOptions
from onboarding.mailsync.plan import size_limit
from onboarding.mailsync.problems import classify_refusal, describe
from onboarding.mailsync.state import DONE, DUP, INTENT, MessageRow, flags_text
from onboarding.mailsync.tracker import PassTracker
from onboarding.mailsync.wire import uid_set

__all__ = ["UID_CHUNK", "FolderCopy"]

_UID_RE = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
# What a response may claim beyond the message size limit before it is refused as impossible.
_LITERAL_SLACK = 16 * 1024 * 1024


class _Sent(NamedTuple):
    """A message handed to the APPEND pipeline: identity, Message-ID, dropped flags, bytes."""

    identity: ContentKey
    mid: str | None
    dropped: int
    size: int


class FolderCopy:
    """Copies one folder's missing messages; ``over_budget`` says some were left for later."""

    def __init__(self, work: FolderWork, tracker: PassTracker, options: SyncOptions) -> None:
        self.work = work
        self.tracker = tracker
        self.opt = options
        self.copied_to: list[tuple[SourceMessage, int]] = []  # (source message, destination UID)
        self.over_budget = False  # messages left for the next pass (SyncOptions.byte_budget)
        # NUL bytes can travel only where both sides speak RFC 3516.
        self.binary = "BINARY" in work.src.capabilities and "BINARY" in work.dst.capabilities

    def copy(self, todo: list[SourceMessage]) -> None:
        """Copy ``todo`` (too big or over the byte budget: skipped with a reason)."""
        w = self.work
        limit = size_limit(self.opt, w.dst.capabilities)
        w.src.max_literal = 2 * limit + _LITERAL_SLACK
        poison = self.tracker.poison
        copyable: list[SourceMessage] = []
        for m in todo:
            condemned = poison.reason(w.plan.source, m.uid)
            if condemned is not None:
                w.counts.failed += 1
                w.problem(m, "failed", *condemned)
            elif not in_window(m, self.opt):
                self.over_budget = True  # left for a later pass, like the byte budget
                w.counts.skipped += 1
                w.problem(m, "skipped", "OutsideDateRange", window_text(self.opt), None)
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
        suspects = poison.suspects[w.plan.source]
        for batch in self._batches([m for m in copyable if m.uid not in suspects]):
            self._pace(batch)
            self._copy_batch(batch)
            self.tracker.keep_lease()
            self.tracker.tick(w.plan.source)
        for m in copyable:  # each alone, so a drop names the message that caused it
            if m.uid in suspects:
                self._pace([m])
                self._copy_batch([m], group=1, depth=1)

    def _pace(self, batch: list[SourceMessage]) -> None:
        """Wait until ``batch`` fits the rate limits (:mod:`.ratelimit`), if any."""
        if self.opt.pacer is not None:
            self.opt.pacer.take(messages=len(batch), size=sum(m.size for m in batch))

    def _batches(self, todo: list[SourceMessage]) -> Iterable[list[SourceMessage]]:
        batch: list[SourceMessage] = []
        size = 0
        most, most_bytes = self.opt.fetch_batch, self.opt.fetch_batch_bytes
        if self.opt.pacer is not None:  # small FETCHes, so the source sees the pace
            paced, paced_bytes = self.opt.pacer.batch_limit()
            most, most_bytes = min(most, paced or most), min(most_bytes, paced_bytes or most_bytes)
        for m in todo:
            if batch and (len(batch) >= most or size + m.size > most_bytes):
                yield batch
                batch, size = [], 0
            batch.append(m)
            size += m.size
        if batch:
            yield batch

    def _within_budget(self, copyable: list[SourceMessage]) -> list[SourceMessage]:
        """The messages this pass may still copy under ``byte_budget``; the rest are skipped
        with a reason and the folder stays incomplete, so the next pass lists and copies them."""
        budget = self.tracker.byte_budget
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
                self.work.problem(m, "skipped", "ByteBudget", self.tracker.budget_reason, None)
        return allowed

    def _copy_batch(
        self, batch: list[SourceMessage], *, group: int | None = None, depth: int | None = None
    ) -> None:
        w, opt = self.work, self.opt
        meta = {m.uid: m for m in batch}
        w.save(MessageRow(m.uid, None, None, flags_text(m.flags), INTENT) for m in batch)
        w.sent.update(meta)
        pipe = AppendPipeline(
            w.dst,
            w.dname,
            depth=opt.pipeline_depth if depth is None else depth,
            group=opt.append_group if group is None else group,
            verify_sizes=True,
        )
        reader = BodyReader(w.src, meta, binary=self.binary)
        pending: dict[int, _Sent] = {}
        dups: list[tuple[SourceMessage, ContentKey, str | None]] = []
        try:
            self._send(reader, pipe, meta, pending, dups)
            results = pipe.drain()
        except ResponseTooLarge as exc:
            self._too_large(exc, meta)
            raise
        except ConnectionLost as exc:
            if exc.side == "destination":
                words = exc.response or "none, the connection was cut without an answer"
                mids = {uid: sent.mid for uid, sent in pending.items()}
                self.tracker.poison.dropped(w.plan.source, pipe.unconfirmed(), words, mids)
            raise
        self._settle(results, pipe, pending, meta)
        for m, k, mid in dups:
            dst_uid = w.key_dst.get(k)
            if k in w.key_dst:
                w.counts.dups += 1
                w.save([MessageRow(m.uid, dst_uid, k.identity, flags_text(m.flags), DUP, k.digest)])
            else:
                w.counts.failed += 1
                w.problem(m, "failed", "DuplicateOfFailed", "identical message failed", mid)
        self._missing(reader.missing, meta)

    def _send(
        self,
        reader: BodyReader,
        pipe: AppendPipeline,
        meta: dict[int, SourceMessage],
        pending: dict[int, _Sent],
        dups: list[tuple[SourceMessage, ContentKey, str | None]],
    ) -> None:
        """Stream the batch's bodies from the source into the APPEND pipeline."""
        w, key_dst = self.work, self.work.key_dst
        for uid, body, binary in reader.bodies():
            m = meta[uid]
            self.tracker.keep_lease()
            mid = message_id_from_message(body if isinstance(body, bytes) else body_head(body))
            digest = body_sha256(body)  # duplicates only when the bytes are the same (I11)
            k = ContentKey(
                identity_key(
                    mid,
                    internaldate_epoch(m.internaldate),
                    m.size,
                    "" if mid else "sha256:" + digest,
                ),
                digest,
            )
            if k in key_dst:
                dups.append((m, k, mid))
                close_body(body)
                continue
            key_dst[k] = None
            kept, refused = w.filter.split(m.flags)
            pending[uid] = _Sent(k, mid, len(refused), len(body))
            pipe.submit(uid, kept, m.internaldate or None, body, binary=binary)
            close_body(body)
            del body

    def _settle(
        self,
        results: list[AppendResult],
        pipe: AppendPipeline,
        pending: dict[int, _Sent],
        meta: dict[int, SourceMessage],
    ) -> None:
        """Record each APPEND's outcome; redo what a group refusal or a flag refusal held up."""
        w = self.work
        c, key_dst = w.counts, w.key_dst
        done_rows: list[MessageRow] = []
        retry: list[SourceMessage] = []
        isolate: list[SourceMessage] = []
        throttled: float | None = None
        for res in results:
            if res.status.ok:
                for token, dst_uid in zip(res.tokens, res.appended_uids, strict=True):
                    stored = pipe.stored_sizes.get(dst_uid) if dst_uid is not None else None
                    self._confirmed(meta[token], pending[token], dst_uid, stored, done_rows)
                continue
            wait = throttle_seconds(res.status) if res.status.code != "LIMIT" else None
            if wait is not None:
                throttled = max(throttled or 0.0, wait)  # not the message's fault: redo later
                continue
            if len(res.tokens) > 1:
                # MULTIAPPEND is atomic: nothing was stored; re-send one by one to find why.
                for token in res.tokens:
                    key_dst.pop(pending[token].identity, None)
                    isolate.append(meta[token])
                continue
            m = meta[res.tokens[0]]
            sent = pending[res.tokens[0]]
            text = describe(res.status)
            cls = classify_refusal(res.status)
            key_dst.pop(sent.identity, None)
            if cls == "FlagRefused" and FlagFilter.keywords(m.flags):
                w.filter = w.filter.refuse(FlagFilter.keywords(m.flags))
                w.problem(m, "flags-dropped", "FlagRefused", text, sent.mid)
                retry.append(m)
                continue
            c.failed += 1
            w.problem(m, "failed", cls, text, sent.mid)
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

    def _confirmed(
        self,
        m: SourceMessage,
        sent: _Sent,
        dst_uid: int | None,
        stored: int | None,
        rows: list[MessageRow],
    ) -> None:
        c, tracker = self.work.counts, self.tracker
        self.work.key_dst[sent.identity] = dst_uid
        k = sent.identity
        rows.append(MessageRow(m.uid, dst_uid, k.identity, flags_text(m.flags), DONE, k.digest))
        tracker.budget_used += m.size
        tracker.done_msgs += 1
        tracker.done_bytes += m.size
        if stored is not None and stored != sent.size:
            # Stored, but not what was sent: never "copied"; not appended again either.
            c.failed += 1
            c.altered += 1
            self.work.problem(
                m,
                "failed",
                "ChangedByDestination",
                f"the destination changed the message: {stored} bytes instead of {sent.size}",
                sent.mid,
                retry=False,  # its (altered) copy is stored: appending again would double it
            )
            return
        c.copied += 1
        c.bytes_copied += m.size
        c.dropped_flags += sent.dropped
        if dst_uid is not None:
            self.copied_to.append((m, dst_uid))

    def _missing(self, missing: dict[int, str], meta: dict[int, SourceMessage]) -> None:
        """Settle messages the source answered without a body: gone, or failed (I2, I11)."""
        if not missing:
            return
        w = self.work
        alive = set(w.src.uid_search(b"UID " + uid_set(missing), fresh=True))
        for uid, said in sorted(missing.items()):
            if uid in alive:
                w.counts.failed += 1
                w.problem(
                    meta[uid],
                    "failed",
                    "NoBody",
                    f"the source answered {said}; UID SEARCH still finds the message",
                    None,
                )
            else:
                w.counts.in_scope -= 1  # expunged on the source since it was listed

    def _too_large(self, exc: ResponseTooLarge, meta: dict[int, SourceMessage]) -> None:
        """Condemn the message whose FETCH answer claimed an impossible literal, if known."""
        found = _UID_RE.search(exc.line)
        uid = int(found.group(1)) if found else None
        if exc.side != "source" or uid not in meta:
            return
        assert uid is not None
        self.tracker.poison.condemn(
            self.work.plan.source,
            uid,
            "HugeLiteral",
            f"the source ({exc.host}) announced {exc.claimed:,} bytes for this "
            f"{meta[uid].size:,}-byte message, over the cap of {exc.cap:,}",
        )

    def verify_sample(self) -> None:
        """Read back the first and last copied messages (:func:`.folder_verify.verify_sample`)."""
        verify_sample(self.work, self.copied_to)
