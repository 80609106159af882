"""The daily byte cap (issue 10): a paused mailbox resumes the next day, every message once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from support.mail import connect, digests, fill, snapshot

from lab import Lab, LabUser
from onboarding.mailsync import MailboxPair, StateStore, SyncOptions, SyncStatus, sync_mailbox
from onboarding.mailsync.daily_cap import allowance
from onboarding.mailsync.report import MailboxResult, build_report

_T0 = datetime(2026, 12, 2, 9, 30, tzinfo=UTC).timestamp()
_HOUR0 = int(_T0 // 3600)


def test_the_cap_counts_the_last_24_hours_and_resumes_when_the_oldest_leave() -> None:
    """Reads older than 24 h do not count; a capped account resumes at the hour the oldest
    reads that keep it over the cap leave the window."""
    rows = [(_HOUR0 - 30, 900), (_HOUR0 - 20, 600), (_HOUR0 - 2, 500)]
    a = allowance(rows, cap=1_000, now=_T0)
    assert a.used == 1_100 and a.remaining == -100
    assert a.resumes_at == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)  # 20 h ago + 24 h
    assert allowance([], cap=1_000, now=_T0).resumes_at is None


def test_bytes_read_persist_in_the_state_store(state_url: str) -> None:
    """SQLite and Postgres: additions to one hour add up, other accounts stay apart."""
    store = StateStore(state_url)
    try:
        store.add_download("imap.gmail.com:993/ann@x", _HOUR0, 700)
        store.add_download("imap.gmail.com:993/ann@x", _HOUR0, 300)
        store.add_download("imap.gmail.com:993/bob@x", _HOUR0, 5)
        assert store.downloads("imap.gmail.com:993/ann@x", _HOUR0 - 23) == [(_HOUR0, 1_000)]
    finally:
        store.dispose()


def test_a_capped_mailbox_pauses_and_the_next_day_finishes_it(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """The cap is reached mid-mailbox: the pass ends Paused with the resume time (the run's
    report does not fail, counts reconcile); a pass the same day copies nothing; passes on
    later days finish it with every message exactly once."""
    src = (lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password)
    with connect(*src) as c:
        total = fill(c, {"INBOX": 24, "Archive": 12})
    pair = pair_for(lab_user)
    cap = 25_000
    options = SyncOptions(daily_byte_cap=cap, fetch_batch=4)

    first = sync_mailbox(pair, options, store, clock=lambda: _T0)

    assert first.status is SyncStatus.PAUSED and first.reconciles
    assert 0 < first.copied < total and first.failed == 0
    assert cap <= first.bytes_copied < cap + 3_000
    assert first.resumes_at == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    report = build_report("acme", "initial", [MailboxResult(lab_user.email, outcome=first)])
    row = report.mailboxes[0]
    assert report.ok and row["verdict"] == "ok" and row["status"] == "Paused"
    assert row["paused"] == "resumes at 09:00 UTC (2026-12-03)"
    assert row["deferred"] == first.skipped and report.totals["paused_mailboxes"] == 1
    assert "resumes at 09:00 UTC" in report.markdown()

    same_day = sync_mailbox(pair, options, store, clock=lambda: _T0 + 3600)
    assert same_day.copied == 0 and same_day.status is SyncStatus.PAUSED

    copied, day = first.copied, 0
    while copied < total:
        day += 1
        later = _T0 + day * 86_400 + 3600
        out = sync_mailbox(pair, options, store, clock=lambda t=later: t)
        assert out.reconciles and out.copied > 0 and out.already_present == copied
        copied += out.copied
    assert out.status is SyncStatus.SYNCED and out.resumes_at is None
    with connect(lab.destination.host, lab.destination.imap_port, lab_user.email,
                 lab_user.destination_password) as d, connect(*src) as s:  # fmt: skip
        assert digests(snapshot(d)) == digests(snapshot(s))  # every message once
