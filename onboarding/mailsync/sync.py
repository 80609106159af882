"""One pass over one mailbox pair: connect, map folders, sync each folder, sum up.

Step 1 of every folder happens here: STATUS on both sides (pipelined). If the source's
UIDVALIDITY, UIDNEXT, MESSAGES and HIGHESTMODSEQ and the destination's UIDVALIDITY equal what
the last complete pass saw, the folder is skipped, so an unchanged re-run costs a few round
trips per mailbox. Changed folders go to :mod:`onboarding.mailsync.folder_sync`, with the
pass's :class:`~onboarding.mailsync.tracker.PassTracker` (progress, lease, byte budget). A
dropped connection or a throttling answer reconnects (with backoff) and redoes the current
folder, which is idempotent; after ``max_retries`` the transient error is raised to the task
layer.

A source folder the map puts in error (``Sent`` beside ``sent`` on a case-insensitive
destination, a name that cannot be written there) is copied by no pass: its messages are
counted as failed with the folder's reason, so the I2 equation never hides them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from onboarding.mailsync._exceptions import (
    MailSyncError,
    ProtocolError,
    Throttled,
    TransientSyncError,
)
from onboarding.mailsync.daily_cap import CapLedger, account_key
from onboarding.mailsync.folder_sync import FolderSync
from onboarding.mailsync.folder_work import FolderWork
from onboarding.mailsync.gmail import GmailPass
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.models import (
    FolderOutcome,
    FolderPlan,
    MailboxOutcome,
    MailboxPair,
    MessageProblem,
    SyncOptions,
    SyncProgress,
    SyncStatus,
)
from onboarding.mailsync.problems import FIXES
from onboarding.mailsync.session import Connector, folder_view, open_session
from onboarding.mailsync.state import StateStore
from onboarding.mailsync.tracker import PassTracker

__all__ = ["sync_mailbox"]

log = logging.getLogger(__name__)

_MAX_THROTTLE_WAITS = 100  # throttling answers one pass waits out before it gives up
_LATER = frozenset({"ByteBudget", "OutsideDateRange"})  # left for a later pass, not problems


def sync_mailbox(
    pair: MailboxPair,
    options: SyncOptions,
    state: StateStore,
    *,
    progress: Callable[[SyncProgress], None] | None = None,
    connector: Connector = open_session,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> MailboxOutcome:
    """Run one pass; per-message problems are in the outcome, mailbox-level ones are raised.

    Raises a :class:`MailSyncError`: ``AuthFailed``/``TLSFailed``/``IMAPDisabled`` at login,
    ``StateLocked`` if another sync of the pair runs, a transient error when the connection
    kept failing after ``options.max_retries`` reconnects. Throttling answers are waited out
    (at most ``options.max_backoff_seconds`` each) and counted, and do not use up reconnects.
    ``clock`` (POSIX seconds) dates the bytes counted against ``options.daily_byte_cap``.
    """
    with state.lease(pair.key):
        run = _Run(pair, options, state, progress, connector, sleep)
        if options.daily_byte_cap is not None:
            src = pair.source
            account = account_key(src.host, src.port, src.account)
            run.cap = CapLedger(state, account, options.daily_byte_cap, clock)
        return run.run()


class _Run:
    """One pass: its two connections, reconnects with backoff, and the loop over folders."""

    def __init__(
        self,
        pair: MailboxPair,
        options: SyncOptions,
        state: StateStore,
        progress: Callable[[SyncProgress], None] | None,
        connector: Connector,
        sleep: Callable[[float], None],
    ) -> None:
        self.pair = pair
        self.opt = options
        self.state = state
        self.key = pair.key
        self.connector = connector
        self.sleep = sleep
        self.src: ImapSession | None = None
        self.dst: ImapSession | None = None
        self.reconnects = 0
        self.retries = 0
        self.throttle_waits = 0
        self.tracker = PassTracker(
            pair.mailbox, self.key, state, progress, byte_budget=options.byte_budget
        )
        self.gmail: GmailPass | None = None
        self.cap: CapLedger | None = None

    # -- connections ----------------------------------------------------------------------

    def _connect(self) -> tuple[ImapSession, ImapSession]:
        """Open whichever side is not connected; both at once (half the round trips)."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            src = pool.submit(self.connector, self.pair.source, "source") if not self.src else None
            dst = (
                pool.submit(self.connector, self.pair.destination, "destination")
                if not self.dst
                else None
            )
            error: MailSyncError | None = None
            for future, side in ((src, "source"), (dst, "destination")):
                if future is None:
                    continue
                try:
                    session = future.result()
                except MailSyncError as exc:
                    error = error or exc
                    continue
                if side == "source":
                    self.src = session
                else:
                    self.dst = session
        if error is not None:
            self._drop()
            raise error
        assert self.src is not None and self.dst is not None
        return self.src, self.dst

    def _drop(self) -> None:
        for s in (self.src, self.dst):
            if s is not None:
                s.close()
        self.src = self.dst = None

    def _recover(self, exc: TransientSyncError, attempt: int) -> int:
        """Back off after a transient failure; re-raise when retries are used up.

        Returns the next attempt number: a throttling answer is the server pacing us, not a
        failure, so it waits as told (bounded) and does not count (issue 10), up to
        ``_MAX_THROTTLE_WAITS`` in one pass.
        """
        self._drop()
        throttled = isinstance(exc, Throttled) and self.throttle_waits < _MAX_THROTTLE_WAITS
        if attempt >= self.opt.max_retries and not throttled:
            raise exc
        self.retries += 1
        self.reconnects += 1
        if isinstance(exc, Throttled):
            self.throttle_waits += 1
            wait = min(exc.backoff_seconds, self.opt.max_backoff_seconds)
        else:
            wait = min(0.2 * (2**attempt), self.opt.max_backoff_seconds)
        log.warning("%s: %s; retrying in %.1fs", self.pair.mailbox, exc, wait)
        self.sleep(wait)
        return attempt if throttled else attempt + 1

    # -- the pass -------------------------------------------------------------------------

    def run(self) -> MailboxOutcome:
        """The pass; on any error the connections are closed before it propagates."""
        try:
            return self._run()
        except BaseException:
            self._drop()
            raise

    def _run(self) -> MailboxOutcome:
        attempt = 0
        while True:
            try:
                src, dst = self._connect()
                view = folder_view(self.pair, self.opt, src, dst)
                self.gmail = GmailPass(view.gmail, view.plans) if view.gmail else None
                errors = [p for p in view.plans if p.action == "error"]
                error_status = (
                    src.status_many([p.source for p in errors], self._sizes(src)) if errors else {}
                )
                break
            except TransientSyncError as exc:
                attempt = self._recover(exc, attempt)
        if self.cap is not None:
            self.tracker.limit_budget(self.cap.current().remaining, self.cap.cap)
        plans = [p for p in view.plans if p.action == "copy"]
        others = tuple(p for p in view.plans if p.action != "copy")
        tracker = self.tracker
        tracker.folders_total = len(plans)
        dst_names = {e.name for e in view.destination_folders}
        results: dict[str, tuple[FolderOutcome, list[MessageProblem]]] = {}
        statuses: tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]] | None = None
        pending = list(plans)
        attempt = 0
        while pending:
            try:
                src, dst = self._connect()
                if statuses is None:
                    statuses = self._statuses(src, dst, pending, dst_names)
                    if not results and attempt == 0:  # totals once, over every folder
                        tracker.total_msgs = sum(
                            statuses[0].get(p.source, {}).get("MESSAGES", 0) for p in pending
                        )
                        tracker.total_bytes = sum(
                            statuses[0].get(p.source, {}).get("SIZE", 0) for p in pending
                        )
                plan = pending[0]
                tracker.begin_folder()
                outcome, problems = self._folder(src, dst, plan, statuses, dst_names)
                results[plan.source] = (outcome, problems)
                pending.pop(0)
                size = statuses[0].get(plan.source, {}).get("SIZE")
                tracker.end_folder(
                    plan.source,
                    outcome.in_scope,
                    size if size is not None else outcome.bytes_copied,
                )
                if self.cap is not None:
                    self.cap.record(tracker.budget_used)
                attempt = 0
            except TransientSyncError as exc:
                if tracker.poison.take_progress():
                    attempt = 0  # a message that breaks connections was set aside: progress
                attempt = self._recover(exc, attempt)
                statuses = None  # re-read after reconnecting; the folder redo is idempotent
        for p in errors:
            results[p.source] = _folder_in_error(p, error_status.get(p.source))
        folders = tuple(results[p.source][0] for p in (*plans, *errors))
        gmail = self.gmail.outcome(self.src, folders) if self.gmail and self.src else None
        for s in (self.src, self.dst):
            if s is not None:
                s.logout()
        all_problems = tuple(pr for p in (*plans, *errors) for pr in results[p.source][1])
        bad = bool(errors) or any(f.failed for f in folders) or bool(all_problems)
        status = SyncStatus.SYNCED_WITH_ERRORS if bad else SyncStatus.SYNCED
        resumes_at = None
        if self.cap is not None and tracker.capped:
            self.cap.record(tracker.budget_used)
            deferred = any(p.error_class == "ByteBudget" for p in all_problems)
            if deferred:
                resumes_at = self.cap.current().resumes_at
                if all(p.error_class in _LATER for p in all_problems) and not errors:
                    status = SyncStatus.PAUSED
        error = (
            "; ".join(f"folder {p.source_display!r}: {p.reason}" for p in errors)
            if errors
            else None
        )
        return MailboxOutcome(
            mailbox=self.pair.mailbox,
            pass_kind=self.opt.pass_kind,
            status=status,
            folders=folders,
            excluded_folders=others,
            problems=all_problems,
            seconds=tracker.elapsed(),
            reconnects=self.reconnects,
            retries=self.retries,
            throttle_waits=self.throttle_waits,
            error=error,
            gmail=gmail,
            resumes_at=resumes_at,
        )

    @staticmethod
    def _sizes(src: ImapSession) -> list[str]:
        """STATUS items that count a folder's messages (and bytes, with STATUS=SIZE)."""
        return ["MESSAGES", "SIZE"] if "STATUS=SIZE" in src.capabilities else ["MESSAGES"]

    def _statuses(
        self, src: ImapSession, dst: ImapSession, plans: list[FolderPlan], dst_names: set[str]
    ) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY"]
        if "CONDSTORE" in src.capabilities:
            items.append("HIGHESTMODSEQ")
        src_items = [*items, "SIZE"] if "STATUS=SIZE" in src.capabilities else items
        s = src.status_many([p.source for p in plans], src_items)
        d_items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY"]
        d = dst.status_many(
            [p.destination for p in plans if p.destination and p.destination in dst_names],
            d_items,
        )
        return s, d

    # -- one folder -----------------------------------------------------------------------

    def _folder(
        self,
        src: ImapSession,
        dst: ImapSession,
        plan: FolderPlan,
        statuses: tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]],
        dst_names: set[str],
    ) -> tuple[FolderOutcome, list[MessageProblem]]:
        assert plan.destination is not None
        dname = plan.destination
        s_stat = statuses[0].get(plan.source)
        d_stat = statuses[1].get(dname)
        fs = self.state.folder_state(self.key, plan.source)
        if fs is not None and fs.unchanged(s_stat, d_stat, dname):
            return (
                FolderOutcome(
                    source=plan.source,
                    destination=dname,
                    in_scope=fs.src_messages,
                    already_present=fs.present,
                    source_duplicates=fs.dups,
                    skipped=fs.skipped,
                    unchanged=True,
                    scan="unchanged",
                ),
                [],
            )
        try:
            elsewhere = self.gmail.elsewhere(src, plan) if self.gmail else frozenset[int]()
            s_info = src.select(plan.source, readonly=True)
        except ProtocolError as exc:
            return self._folder_failed(plan, s_stat, exc)
        try:
            if dname not in dst_names:
                dst.create(dname, subscribe=True)
                dst_names.add(dname)
            d_info = dst.select(dname, readonly=False)
        except ProtocolError as exc:
            return self._folder_failed(plan, s_stat, exc)
        work = FolderWork(
            src,
            dst,
            plan,
            s_info,
            d_info,
            fs,
            state=self.state,
            key=self.key,
            sent=self.tracker.sent[plan.source],
        )
        work.elsewhere = elsewhere
        return FolderSync(work, self.tracker, self.opt, self.sleep).run()

    def _folder_failed(
        self, plan: FolderPlan, s_stat: dict[str, int] | None, exc: MailSyncError
    ) -> tuple[FolderOutcome, list[MessageProblem]]:
        n = (s_stat or {}).get("MESSAGES", 0)
        problem = MessageProblem(
            folder=plan.source_display,
            uid=0,
            message_id=None,
            size=0,
            internaldate="",
            outcome="failed",
            error_class=type(exc).__name__,
            server_response=exc.response or str(exc),
            fix=exc.fix,
        )
        dest = plan.destination or ""
        return FolderOutcome(plan.source, dest, in_scope=n, failed=n), [problem]


def _folder_in_error(
    plan: FolderPlan, status: dict[str, int] | None
) -> tuple[FolderOutcome, list[MessageProblem]]:
    """A folder the map puts in error: its messages in scope and failed, with its reason."""
    n = (status or {}).get("MESSAGES", 0)
    counted = (
        f"{n} message(s) not copied" if status is not None else "its messages could not be counted"
    )
    problem = MessageProblem(
        folder=plan.source_display,
        uid=0,
        message_id=None,
        size=(status or {}).get("SIZE", 0),
        internaldate="",
        outcome="failed",
        error_class="FolderNotMapped",
        server_response=f"{counted}: {plan.reason}",
        fix=FIXES["FolderNotMapped"],
    )
    outcome = FolderOutcome(plan.source, plan.destination or "", in_scope=n, failed=n)
    return outcome, [problem]
