"""Throttling answers (issue 10): Office 365's and Gmail's, waited out, counted, never fatal."""

from __future__ import annotations

from collections.abc import Callable

from support.faultproxy import FaultProxy
from support.imap_filters import LiteralRewriter, keep, throttle_fetches
from support.mail import connect, fill

from lab import Lab, LabUser
from onboarding.mailsync import MailboxPair, StateStore, SyncOptions, SyncStatus, sync_mailbox
from onboarding.mailsync.report import MailboxResult, build_report

_M365 = b"NO Request is throttled. Suggested Backoff Time: 150 milliseconds"
_GMAIL = b"NO [THROTTLED] Account exceeded command or bandwidth limits. (Failure)"


def test_throttled_fetches_are_waited_out_and_counted(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """More throttling answers than ``max_retries`` allows reconnects: each is waited out
    (Microsoft's 150 ms as asked, Gmail's default 5 s bounded by ``max_backoff_seconds``),
    counted in the outcome and the report, and the mailbox still syncs completely."""
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        total = fill(c, {"INBOX": 12, "Archive": 6})
    answers = [_M365, _M365, _GMAIL, _M365]
    waits: list[float] = []
    with FaultProxy((lab.source.host, lab.source.imap_port)) as proxy:
        proxy.filter("downstream", lambda: LiteralRewriter(keep, lines=throttle_fetches(answers)))
        options = SyncOptions(max_retries=2, max_backoff_seconds=1.0, fetch_batch=5)
        out = sync_mailbox(
            pair_for(lab_user, src_port=proxy.port), options, store, sleep=waits.append
        )
    assert not answers  # every throttling answer was given
    assert out.status is SyncStatus.SYNCED and out.copied == total and out.reconciles
    assert out.throttle_waits == 4 and sorted(waits) == [0.15, 0.15, 0.15, 1.0]
    report = build_report("acme", "initial", [MailboxResult(lab_user.email, outcome=out)])
    assert report.mailboxes[0]["throttle_waits"] == 4 and report.totals["throttle_waits"] == 4
    assert "throttling answers waited out: 4" in report.markdown()
