"""Progress, lease renewal and byte budget of one pass, shared by the run and its folders.

The mailbox run (:mod:`.sync`) owns one :class:`PassTracker` and hands it to each changed
folder's sync (:mod:`.folder_sync`, :mod:`.folder_copy`), which adds what it copies. The
counters are plain public attributes so the copy loop adds to them without a call per message.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from onboarding.mailsync.models import SyncProgress
from onboarding.mailsync.poison import PoisonLog
from onboarding.mailsync.state import StateStore

__all__ = ["PassTracker"]


class PassTracker:
    """What one pass over a mailbox pair counts across its folders, and its lease.

    ``done_*`` is what the progress ticks show: ``finished_*`` (the folders already finished)
    plus what the current folder copied so far. ``budget_used`` is the bytes this pass copied,
    against ``byte_budget``: ``SyncOptions.byte_budget``, or less when the account's daily
    byte cap leaves less (:meth:`limit_budget`; ``budget_reason`` then says so).
    """

    def __init__(
        self,
        mailbox: str,
        key: str,
        state: StateStore,
        progress: Callable[[SyncProgress], None] | None,
        *,
        byte_budget: int | None = None,
    ) -> None:
        self.mailbox = mailbox
        self.key = key
        self.state = state
        self.progress = progress
        self.started = time.monotonic()
        self.lease_renewed = self.started
        self.done_msgs = 0
        self.done_bytes = 0
        self.budget_used = 0
        self.byte_budget = byte_budget
        self.budget_reason = "byte budget reached; the next pass continues"
        self.capped = False  # the daily byte cap, not the pass's budget, is what binds
        self.finished_msgs = 0
        self.finished_bytes = 0
        self.total_msgs = 0
        self.total_bytes = 0
        self.folders_done = 0
        self.folders_total = 0
        # Source UIDs this run sent an APPEND for, per folder: after a reconnect the redo of a
        # folder finds them at the destination, and they still count as copied by this run.
        self.sent: defaultdict[str, set[int]] = defaultdict(set)
        # The destination was seen to set its own INTERNALDATE or alter bytes (a later
        # folder's matching by content then ignores the date from the start).
        self.dest_alters = False
        # Messages that broke a connection during this pass (:mod:`.poison`).
        self.poison = PoisonLog()

    def limit_budget(self, remaining: int, cap: int) -> None:
        """Copy at most ``remaining`` bytes more (what the daily ``cap`` leaves; may be <= 0)."""
        if self.byte_budget is None or remaining < self.byte_budget:
            self.byte_budget = max(0, remaining)
            self.capped = True
            self.budget_reason = (
                f"daily byte cap of {cap:,} bytes per 24 hours reached; a later pass continues"
            )

    def keep_lease(self) -> None:
        """Renew the pair's lease when a quarter of its time has passed (cheap to call often)."""
        now = time.monotonic()
        if now - self.lease_renewed > self.state.lease_seconds / 4:
            self.state.renew(self.key)
            self.lease_renewed = now

    def begin_folder(self) -> None:
        """Start (or redo, after a reconnect) a folder: forget what an earlier try counted."""
        self.done_msgs, self.done_bytes = self.finished_msgs, self.finished_bytes

    def end_folder(self, folder: str, messages: int, size: int) -> None:
        """Count a finished folder's in-scope ``messages`` and ``size`` bytes, and tick."""
        self.folders_done += 1
        self.finished_msgs += messages
        self.finished_bytes += size
        self.done_msgs, self.done_bytes = self.finished_msgs, self.finished_bytes
        self.tick(folder)

    def elapsed(self) -> float:
        """Seconds since the pass started."""
        return time.monotonic() - self.started

    def tick(self, folder: str) -> None:
        """Send a progress tick for ``folder`` (nothing without a progress callback)."""
        if self.progress is None:
            return
        self.progress(
            SyncProgress(
                mailbox=self.mailbox,
                folder=folder,
                folders_done=self.folders_done,
                folders_total=self.folders_total,
                messages_done=self.done_msgs,
                messages_total=self.total_msgs,
                bytes_done=self.done_bytes,
                bytes_total=self.total_bytes,
                elapsed_seconds=time.monotonic() - self.started,
            )
        )
