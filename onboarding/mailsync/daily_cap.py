"""The daily byte cap of a source account: how much it may still send, and when it resumes.

Gmail suspends IMAP for an account that downloads more than about 2,500 MB a day (Google's
"Gmail bandwidth limits"; imapsync FAQ.Gmail), so a pass reads at most what is left of
``SyncOptions.daily_byte_cap`` over the last 24 hours. The bytes read are kept per account
and UTC hour in the state store (``mailsync_download``, SQLite or Postgres), so the cap holds
across passes, processes and workers. :func:`allowance` is pure arithmetic over those rows
with the clock passed in; :class:`CapLedger` reads and adds them for one pass::

    >>> a = allowance([(490_000, 600), (490_010, 500)], cap=1_000, now=490_012 * 3600.0)
    >>> a.remaining, a.resumes_at.isoformat()
    (-100, '2025-11-25T16:00:00+00:00')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from onboarding.mailsync.state import StateStore

__all__ = [
    "WINDOW_HOURS",
    "CapLedger",
    "DailyAllowance",
    "account_key",
    "allowance",
    "hour_of",
]

WINDOW_HOURS = 24


def hour_of(now: float) -> int:
    """Hours since the epoch (UTC) of the POSIX time ``now``."""
    return int(now // 3600)


def account_key(host: str, port: int, account: str) -> str:
    """The cap's unit: one account on one source server (``imap.gmail.com:993/ann@x``)."""
    return f"{host}:{port}/{account}"


@dataclass(frozen=True)
class DailyAllowance:
    """What an account may still read in the window, and when a paused one may go on."""

    cap: int
    used: int
    resumes_at: datetime | None

    @property
    def remaining(self) -> int:
        return self.cap - self.used


def allowance(rows: Sequence[tuple[int, int]], *, cap: int, now: float) -> DailyAllowance:
    """The allowance from ``(hour, bytes)`` rows of the window ending at ``now``.

    ``resumes_at`` is the start of the first hour at which enough of the oldest reads have
    left the window for the account to be under its cap again (None when nothing was read).
    """
    first = hour_of(now) - WINDOW_HOURS + 1
    window = sorted((h, b) for h, b in rows if h >= first)
    used = sum(b for _, b in window)
    resumes: datetime | None = None
    left = used
    for hour, nbytes in window:
        left -= nbytes
        if left < cap:
            resumes = datetime.fromtimestamp((hour + WINDOW_HOURS) * 3600, UTC)
            break
    return DailyAllowance(cap=cap, used=used, resumes_at=resumes)


class CapLedger:
    """One pass's view of its account's cap: what is left at the start, what it read since.

    ``record(total)`` stores the growth of the pass's running byte count ``total`` (call it
    after each folder and at the end; a redo after a reconnect never counts twice).
    """

    def __init__(
        self, state: StateStore, account: str, cap: int, clock: Callable[[], float]
    ) -> None:
        self.state = state
        self.account = account
        self.cap = cap
        self.clock = clock
        self.recorded = 0

    def current(self) -> DailyAllowance:
        """The allowance now, from the store."""
        now = self.clock()
        rows = self.state.downloads(self.account, hour_of(now) - WINDOW_HOURS + 1)
        return allowance(rows, cap=self.cap, now=now)

    def record(self, total: int) -> None:
        if total > self.recorded:
            self.state.add_download(self.account, hour_of(self.clock()), total - self.recorded)
            self.recorded = total
