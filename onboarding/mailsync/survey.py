"""Survey of one mailbox before its migration: pre-flight plus sizes, limits and a speed sample.

The runbook's "verify source server access" and "approximate mailbox sizes and counts" for
one user, measured: :func:`~onboarding.mailsync.preflight.preflight` (both logins,
capabilities, folders, quota), then on the source every message's size (the largest, how
many are over the destination's limit) and a timed read of the newest messages, from which
:attr:`Survey.eta_seconds` estimates the copy. Writes nothing anywhere: folders are only
EXAMINEd and bodies read with ``BODY.PEEK[]`` (no ``\\Seen``); the destination is only
logged in to, listed and asked for its quota.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from onboarding.mailsync._exceptions import MailSyncError
from onboarding.mailsync.imap import ImapSession
from onboarding.mailsync.models import MailboxPair, PreflightReport, SidePreflight, SyncOptions
from onboarding.mailsync.plan import size_limit
from onboarding.mailsync.preflight import CAPABILITIES_OF_INTEREST, preflight
from onboarding.mailsync.session import Connector, open_session
from onboarding.mailsync.wire import Token, uid_set

__all__ = ["PREFLIGHT_COLUMNS", "SAMPLE_MAX_MESSAGES", "SourceSample", "Survey", "survey"]

# The table people read: who, the verdict and what to do first, then the numbers.
PREFLIGHT_COLUMNS = (
    "mailbox",
    "status",
    "failed_side",
    "error",
    "fix",
    "folders",
    "messages",
    "size",
    "largest_message",
    "message_size_limit",
    "too_big",
    "fits_message_limit",
    "quota_free",
    "fits_quota",
    "sample_rate",
    "eta",
    "source_capabilities",
    "destination_capabilities",
)

SAMPLE_MAX_MESSAGES = 200
_NOSELECT = ("\\NOSELECT", "\\NONEXISTENT")
_STATUS = {
    "AuthFailed": "auth failed",
    "IMAPDisabled": "IMAP disabled",
    "TLSFailed": "TLS",
    "ConnectFailed": "connect",
    "Throttled": "throttled",
}


@dataclass(frozen=True)
class SourceSample:
    """A timed read of ``messages`` whole messages (``bytes``) from the source."""

    messages: int
    bytes: int
    seconds: float

    @property
    def bytes_per_second(self) -> float:
        return self.bytes / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Survey:
    """One mailbox before migration; ``status`` is ``ok`` or the first side's failure."""

    report: PreflightReport
    size_limit: int
    largest_message: int | None = None
    too_big: int = 0
    sample: SourceSample | None = None
    note: str | None = None  # a problem reading sizes or the sample (login was fine)

    @property
    def failed_side(self) -> SidePreflight | None:
        r = self.report
        return next((s for s in (r.source, r.destination) if not s.ok), None)

    @property
    def status(self) -> str:
        """``ok``, ``auth failed``, ``IMAP disabled``, ``TLS``, ``connect``, … or ``over quota``."""
        side = self.failed_side
        if side is not None:
            return _STATUS.get(side.error_class or "", side.error_class or "failed")
        if self.report.fits is False:
            return "over quota"
        return "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def fits_message_limit(self) -> bool | None:
        return None if self.largest_message is None else self.too_big == 0

    @property
    def eta_seconds(self) -> float | None:
        """Estimated copy time at the sampled rate (per message and per byte, the slower)."""
        s = self.sample
        if not self.report.source.ok:
            return None
        if self.report.messages == 0:
            return 0.0
        if s is None or s.messages == 0 or s.seconds <= 0:
            return None
        per_message = s.seconds / s.messages * self.report.messages
        per_byte = s.seconds / s.bytes * self.report.bytes if s.bytes else 0.0
        return max(per_message, per_byte)

    def to_dict(self) -> dict[str, object]:
        """One row of the preflight report (numbers raw; ``to_row`` renders them)."""
        r, side = self.report, self.failed_side
        d = r.destination
        free = (
            None if d.quota_limit_bytes is None else d.quota_limit_bytes - (d.quota_used_bytes or 0)
        )

        def caps(p: SidePreflight) -> list[str]:
            return [c for c in CAPABILITIES_OF_INTEREST if p.has(c)] + [
                c for c in p.capabilities if c.startswith("APPENDLIMIT=")
            ]

        return {
            "mailbox": r.mailbox,
            "status": self.status,
            "ok": self.ok,
            "failed_side": side.side if side else None,
            "error": side.error if side else self.note,
            "fix": side.fix if side else None,
            "folders": len(r.source.folders),
            "messages": r.messages,
            "bytes": r.bytes,
            "largest_message": self.largest_message,
            "message_size_limit": self.size_limit,
            "too_big": self.too_big,
            "fits_message_limit": self.fits_message_limit,
            "quota_free_bytes": free,
            "fits_quota": r.fits,
            "sample_messages": self.sample.messages if self.sample else None,
            "sample_bytes_per_second": round(self.sample.bytes_per_second, 1)
            if self.sample
            else None,
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 3),
            "source_capabilities": caps(r.source),
            "destination_capabilities": caps(d),
        }


def _int(tok: Token | None) -> int:
    return int(tok) if isinstance(tok, bytes) and tok.isdigit() else 0


def survey(
    pair: MailboxPair,
    options: SyncOptions,
    *,
    sample_bytes: int = 2 << 20,
    connector: Connector = open_session,
) -> Survey:
    """Pre-flight ``pair``, then size the source and time a sample; never raises for a login.

    ``sample_bytes`` bounds the timed read (newest messages of the largest folder, at most
    :data:`SAMPLE_MAX_MESSAGES`); 0 skips it and leaves the ETA unknown.
    """
    report = preflight(pair, options, connector=connector)
    limit = size_limit(options, frozenset(report.destination.capabilities))
    if not report.source.ok:
        return Survey(report, limit)
    folders = [
        f
        for f in report.source.folders
        if f.messages and not any(flag.upper() in _NOSELECT for flag in f.flags)
    ]
    try:
        session = connector(pair.source, "source")
    except MailSyncError as exc:
        return Survey(report, limit, note=f"sizes not read: {exc}")
    largest, too_big = 0, 0
    sample: SourceSample | None = None
    try:
        newest: list[tuple[int, int]] = []
        biggest_folder = max(folders, key=lambda f: f.messages or 0, default=None)
        for f in folders:
            session.select(f.name, readonly=True)
            sizes = [
                (_int(it.get("UID")), _int(it.get("RFC822.SIZE")))
                for it in session.uid_fetch(b"1:*", b"(UID RFC822.SIZE)")
                if "RFC822.SIZE" in it
            ]
            largest = max([largest, *(s for _, s in sizes)])
            too_big += sum(1 for _, s in sizes if s > limit)
            if f is biggest_folder:
                newest = sorted(sizes, reverse=True)
        if biggest_folder is not None and sample_bytes > 0 and newest:
            sample = _sample(session, biggest_folder.name, newest, sample_bytes)
    except MailSyncError as exc:
        return Survey(report, limit, largest or None, too_big, note=f"sizes not read: {exc}")
    finally:
        session.logout()
    return Survey(report, limit, largest, too_big, sample)


def _sample(
    session: ImapSession, folder: str, newest: list[tuple[int, int]], budget: int
) -> SourceSample:
    """Time reading the newest messages of ``folder`` up to ``budget`` bytes (at least one)."""
    chosen: list[int] = []
    total = 0
    for uid, size in newest:
        if chosen and (total + size > budget or len(chosen) >= SAMPLE_MAX_MESSAGES):
            break
        chosen.append(uid)
        total += size
    session.select(folder, readonly=True)
    started = time.monotonic()
    got = read = 0
    for it in session.uid_fetch(uid_set(chosen), b"(UID BODY.PEEK[])"):
        body = it.get("BODY[]")
        if isinstance(body, bytes):
            got += 1
            read += len(body)
    return SourceSample(got, read, time.monotonic() - started)
