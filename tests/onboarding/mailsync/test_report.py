"""The migration report: totals reconcile, every failure has a reason and a fix."""

from __future__ import annotations

from onboarding.mailsync import (
    AuthFailed,
    FolderOutcome,
    MailboxOutcome,
    MessageProblem,
    SyncStatus,
)
from onboarding.mailsync.report import FAILED_COLUMNS, MailboxResult, build_report


def _outcome(mailbox: str, copied: int, failed: int = 0) -> MailboxOutcome:
    problems = tuple(
        MessageProblem(
            folder="INBOX",
            uid=40 + i,
            message_id=f"<big{i}@x>",
            size=9_000_000,
            internaldate="01-Jan-2024 10:00:00 +0000",
            outcome="failed",
            error_class="TooBig",
            server_response="NO [LIMIT] Mail size is too large",
            fix="raise the destination's message size limit or accept the skip",
        )
        for i in range(failed)
    )
    folder = FolderOutcome(
        source="INBOX",
        destination="INBOX",
        in_scope=copied + failed + 2,
        copied=copied,
        already_present=2,
        failed=failed,
        bytes_copied=copied * 1000,
    )
    status = SyncStatus.SYNCED_WITH_ERRORS if failed else SyncStatus.SYNCED
    return MailboxOutcome(mailbox, "initial", status, (folder,), problems=problems, seconds=2.0)


def test_clean_run_is_ok_and_the_equation_reconciles() -> None:
    """No failure: ok, and the equation adds up over all mailboxes."""
    report = build_report(
        "acme",
        "initial",
        [MailboxResult("a@x", _outcome("a@x", 10)), MailboxResult("b@x", _outcome("b@x", 5))],
    )
    assert report.ok
    assert report.totals["in_scope"] == 19 and report.totals["copied"] == 15
    assert report.equation.startswith("in scope 19 = copied 15 + already present 4")
    assert report.equation.endswith("reconciles")
    assert report.failed_transfers == ()
    assert "| a@x | Synced | 12 | 10 | 2 |" in report.markdown()


def test_failed_messages_and_mailboxes_are_listed_with_reason_and_fix() -> None:
    """A rejected message and a mailbox that failed after retries both get a row, and not ok."""
    results = [
        MailboxResult("a@x", _outcome("a@x", 10, failed=1)),
        MailboxResult(
            "b@x", error=AuthFailed("login refused", side="source", host="old"), attempts=1
        ),
    ]
    report = build_report("acme", "final", results)
    assert not report.ok
    assert report.failed_mailboxes == 1
    rows = {r["mailbox"]: r for r in report.failed_transfers}
    msg, box = rows["a@x"], rows["b@x"]
    assert set(msg) == set(FAILED_COLUMNS)
    assert (msg["folder"], msg["uid"], msg["outcome"]) == ("INBOX", 40, "failed")
    assert "too large" in str(msg["reason"]) and msg["fix"]
    assert box["outcome"] == "mailbox-failed" and box["error_class"] == "AuthFailed"
    assert "login refused" in str(box["reason"]) and "1 attempt" in str(box["reason"])
    assert "master password" in str(box["fix"])
    assert "(fix:" not in str(box["reason"])  # the fix has its own column
    data = report.as_json()
    assert data["ok"] is False and len(data["failed_transfers"]) == 2  # type: ignore[arg-type]


def test_a_mailbox_that_never_counted_is_named_in_the_equation() -> None:
    """A crashed mailbox has no counts; the equation must not read as a clean reconcile."""
    report = build_report(
        "acme",
        "initial",
        [
            MailboxResult("a@x", _outcome("a@x", 10)),
            MailboxResult("b@x", error=AuthFailed("login refused", side="source", host="old")),
        ],
    )
    assert not report.ok
    assert report.equation.endswith(
        "reconciles, but 1 mailbox(es) failed before their messages were counted "
        "(see failed-transfers)"
    )
