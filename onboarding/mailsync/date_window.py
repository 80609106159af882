"""The pass's date window (``--since`` / ``--before``): which messages this pass copies.

Pre-staging by date copies the newest mail first; a message outside the window is skipped
with a reason and stays pending, so a later pass (without the window) copies it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from onboarding.mailsync.folder_work import SourceMessage
from onboarding.mailsync.identity import internaldate_epoch
from onboarding.mailsync.models import SyncOptions

__all__ = ["in_window", "window_text"]


def in_window(m: SourceMessage, opt: SyncOptions) -> bool:
    """Whether ``m``'s INTERNALDATE is inside ``since``/``before`` (no window: always)."""
    since, before = opt.since, opt.before
    if since is None and before is None:
        return True
    day = datetime.fromtimestamp(internaldate_epoch(m.internaldate), UTC).date()
    return (since is None or day >= since) and (before is None or day < before)


def window_text(opt: SyncOptions) -> str:
    """The skip reason: ``dated outside this pass's window (only mail on or after …)``."""
    parts = (
        f"on or after {opt.since}" if opt.since else "",
        f"before {opt.before}" if opt.before else "",
    )
    window = " and ".join(p for p in parts if p)
    return f"dated outside this pass's window (only mail {window}); a later pass copies it"
