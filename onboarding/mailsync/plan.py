"""Dry run: the folder map with counts and sizes, and what would be skipped and why."""

from __future__ import annotations

from onboarding.mailsync.models import MailboxPair, SyncOptions, SyncPlan

__all__ = ["plan"]


def plan(pair: MailboxPair, options: SyncOptions) -> SyncPlan:
    """Return what a pass would do; writes nothing anywhere (not even the state store)."""
    raise NotImplementedError
