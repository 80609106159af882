"""Pre-flight: log in on both sides, read capabilities and folder sizes; writes nothing."""

from __future__ import annotations

from onboarding.mailsync.models import MailboxPair, PreflightReport, SyncOptions

__all__ = ["preflight"]


def preflight(pair: MailboxPair, options: SyncOptions) -> PreflightReport:
    """Return both sides' login result, capabilities and folders; never raises for a login."""
    raise NotImplementedError
