"""One pass over one mailbox pair: copy new messages, propagate flags, record everything."""

from __future__ import annotations

from collections.abc import Callable

from onboarding.mailsync.models import MailboxOutcome, MailboxPair, SyncOptions, SyncProgress
from onboarding.mailsync.state import StateStore

__all__ = ["sync_mailbox"]


def sync_mailbox(
    pair: MailboxPair,
    options: SyncOptions,
    state: StateStore,
    *,
    progress: Callable[[SyncProgress], None] | None = None,
) -> MailboxOutcome:
    """Run one pass; per-message problems are in the outcome, mailbox-level ones are raised."""
    raise NotImplementedError
