"""What the steps of one changed folder's sync share: sessions, counts, the identity map.

:mod:`.folder_sync` runs the steps; :mod:`.folder_scan` (step 2), :mod:`.folder_match`
(step 3) and :mod:`.folder_copy` (step 4) each read and add to the one :class:`FolderWork` of
the folder. Its attributes are public so every step says plainly what it changes; nothing here
talks to a server except through the two sessions it holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from onboarding.mailsync.flags import FlagFilter
from onboarding.mailsync.identity import ContentKey
from onboarding.mailsync.imap import ImapSession, SelectInfo
from onboarding.mailsync.models import FolderOutcome, FolderPlan, MessageProblem
from onboarding.mailsync.problems import FIXES
from onboarding.mailsync.state import (
    DUP,
    FolderKey,
    FolderState,
    MessageRow,
    StateStore,
    flags_text,
)

__all__ = ["FlagUpdates", "FolderCounts", "FolderWork", "SourceMessage"]


@dataclass(slots=True)
class SourceMessage:
    """One source message as listed: UID, flags, size, INTERNALDATE (and a body hash if read)."""

    uid: int
    flags: tuple[str, ...]
    size: int
    internaldate: str
    body_hash: str = ""


@dataclass(slots=True)
class FolderCounts:
    """The folder's running counts; :meth:`FolderWork.outcome` turns them into the result."""

    in_scope: int = 0
    copied: int = 0
    present: int = 0
    dups: int = 0
    skipped: int = 0
    failed: int = 0
    altered: int = 0  # failed, yet stored (changed by the destination): present next pass
    bytes_copied: int = 0
    flags_updated: int = 0
    dropped_flags: int = 0
    identity_matched: bool = False
    problems: list[MessageProblem] = field(default_factory=list)


# Flags to STORE, grouped by the flag set:
# (destination UID, message, identity, row state, digest of the bytes).
FlagUpdates = dict[tuple[str, ...], list[tuple[int, SourceMessage, str | None, str, str | None]]]


class FolderWork:
    """One changed folder being synced: both sessions (selected), its plan, state and counts.

    ``key_dst`` maps a message's content (identity and the digest of its bytes) to its
    destination UID (None while an APPEND is in flight): a source message with the same
    content is a duplicate; ``mapped_dst`` holds the destination UIDs already confirmed for a
    source message; ``sent`` is the pass's set of source UIDs APPENDed from this folder (it
    outlives a reconnect, see :class:`~.tracker.PassTracker`). ``pending`` collects the
    messages skipped or failed in this pass (every later pass retries them);
    ``elsewhere`` holds the source UIDs another folder of the pass copies (Gmail's All Mail);
    ``dest_alters`` says the destination was seen to set its own INTERNALDATE or change a
    message's bytes, so matching by content ignores the date.
    """

    def __init__(
        self,
        src: ImapSession,
        dst: ImapSession,
        plan: FolderPlan,
        s_info: SelectInfo,
        d_info: SelectInfo,
        fs: FolderState | None,
        *,
        state: StateStore,
        key: str,
        sent: set[int],
    ) -> None:
        self.src = src
        self.dst = dst
        self.plan = plan
        self.dname = plan.destination or ""
        self.s_info = s_info
        self.d_info = d_info
        self.fs = fs
        self.state = state
        self.key = key
        self.sent = sent
        self.counts = FolderCounts()
        self.filter = FlagFilter.from_permanent(d_info.permanent_flags)
        self.key_dst: dict[ContentKey, int | None] = {}
        self.mapped_dst: set[int] = set()
        self.pending: dict[int, SourceMessage] = {}
        self.dest_alters = False
        self.elsewhere: frozenset[int] = frozenset()

    def drop_elsewhere(self, todo: list[SourceMessage]) -> list[SourceMessage]:
        """``todo`` without the messages another folder copies (Gmail's All Mail: they are in
        a label folder); those count as source duplicates, recorded so that later passes keep
        that decision (a label removed after its copy was made does not copy it again)."""
        keep = [m for m in todo if m.uid not in self.elsewhere]
        dropped = [m for m in todo if m.uid in self.elsewhere]
        self.counts.dups += len(dropped)
        self.save(MessageRow(m.uid, None, None, flags_text(m.flags), DUP) for m in dropped)
        return keep

    @property
    def rows_key(self) -> FolderKey:
        """This folder pair under both current UIDVALIDITYs (``d_info`` may be re-selected)."""
        return FolderKey(
            self.key, self.plan.source, self.s_info.uidvalidity, self.dname, self.d_info.uidvalidity
        )

    def save(self, rows: Iterable[MessageRow]) -> None:
        """Record message rows under this folder pair and both current UIDVALIDITYs."""
        self.state.put_messages(self.rows_key, rows)

    def problem(
        self,
        m: SourceMessage,
        outcome: Literal["skipped", "failed", "flags-dropped", "capability"],
        cls: str,
        response: str,
        mid: str | None,
        *,
        retry: bool = True,
    ) -> None:
        """Record a message that was skipped or failed, or shows a capability finding (I11).

        A skipped or failed message stays pending in the state until a pass copies it; with
        ``retry`` False (the destination stored an altered copy) it is reported once and not
        appended again.
        """
        if outcome in ("skipped", "failed") and m.uid and retry:
            self.pending[m.uid] = m
        self.counts.problems.append(
            MessageProblem(
                folder=self.plan.source_display,
                uid=m.uid,
                message_id=mid,
                size=m.size,
                internaldate=m.internaldate,
                outcome=outcome,
                error_class=cls,
                server_response=response,
                fix=FIXES.get(cls, "see the server response"),
            )
        )

    def present(self, m: SourceMessage) -> None:
        """Count a message found at the destination (copied, if this pass sent it earlier)."""
        if m.uid in self.sent:
            self.counts.copied += 1  # appended by an earlier attempt of this same run
            self.counts.bytes_copied += m.size
        else:
            self.counts.present += 1

    def outcome(self, scan: Literal["delta", "full"]) -> FolderOutcome:
        """The folder's result from its counts; ``scan`` is how the source was read."""
        c = self.counts
        return FolderOutcome(
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
