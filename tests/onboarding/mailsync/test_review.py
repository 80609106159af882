"""The customer's latest table across passes and the operator's approvals (pure, plus files)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from onboarding.mailsync import FolderOutcome, MailboxOutcome, MessageProblem, SyncStatus
from onboarding.mailsync.report import MailboxResult, build_report, human_size
from onboarding.mailsync.review import (
    LatestTable,
    load_approvals,
    load_latest,
    save_approvals,
    save_latest,
)

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def _problem(uid: int, cls: str = "TooBig", outcome: str = "skipped") -> MessageProblem:
    return MessageProblem(
        folder="INBOX",
        uid=uid,
        message_id=f"<m{uid}@x>",
        size=9_000_000,
        internaldate="01-Jan-2024 10:00:00 +0000",
        outcome=outcome,  # type: ignore[arg-type]
        error_class=cls,
        server_response="too big",
        fix="raise the limit",
    )


def _result(mailbox: str, *problems: MessageProblem, skipped: int | None = None) -> MailboxResult:
    n = len(problems) if skipped is None else skipped
    folder = FolderOutcome("INBOX", "INBOX", in_scope=5 + n, copied=5, skipped=n)
    status = SyncStatus.SYNCED_WITH_ERRORS if n else SyncStatus.SYNCED
    return MailboxResult(
        mailbox, MailboxOutcome(mailbox, "initial", status, (folder,), problems=problems)
    )


def test_approved_items_and_the_limit_decide_whether_a_mailbox_fails_the_pass() -> None:
    """New items over ``bad_item_limit`` fail the mailbox; approved ones never count; items
    left for a later pass (byte budget) are not items at all."""
    results = [_result("a@x", _problem(1)), _result("b@x", _problem(2, "ByteBudget"))]
    report = build_report("acme", "final", results)
    assert report.problem_mailboxes == ("a@x",) and not report.ok
    assert [r["mailbox"] for r in report.failed_transfers] == ["a@x"]
    assert report.totals["deferred"] == 1
    assert build_report("acme", "final", results, bad_item_limit=1).ok
    approved = build_report(
        "acme", "final", results, approved=frozenset({("a@x", "INBOX", 1, "<m1@x>")})
    )
    assert approved.ok and approved.failed_transfers[0]["approval"] == "approved"


def test_a_partial_rerun_replaces_only_its_mailboxes_and_keeps_counted_items(
    tmp_path: Path,
) -> None:
    """The latest table keeps b@x's rows when only a@x is re-run, and keeps a@x's earlier
    item when the new pass still counts it skipped without listing it (unchanged folder)."""
    first = build_report(
        "acme", "initial", [_result("a@x", _problem(1)), _result("b@x", _problem(2))]
    )
    table = LatestTable().merged(first, at=NOW)
    save_latest(tmp_path, table)
    again = build_report("acme", "incremental", [_result("a@x", skipped=1)])
    merged = load_latest(tmp_path).merged(again, at=NOW)
    rows = merged.rows(frozenset())
    assert [(r["mailbox"], r["uid"]) for r in rows] == [("a@x", 1), ("b@x", 2)]
    assert merged.blocking(frozenset(), 0) == {
        "a@x": "1 new failed/skipped item(s) (limit 0)",
        "b@x": "1 new failed/skipped item(s) (limit 0)",
    }
    cleared = build_report("acme", "incremental", [_result("a@x", skipped=0)])
    assert [r["mailbox"] for r in merged.merged(cleared, at=NOW).rows(frozenset())] == ["b@x"]


def test_approvals_are_added_once_and_survive_a_reload(tmp_path: Path) -> None:
    """Approving the same rows twice records each item once; mailbox failures are never
    approved (they need a fix)."""
    report = build_report("acme", "initial", [_result("a@x", _problem(1), _problem(2))])
    rows = [*report.failed_transfers, {"mailbox": "c@x", "outcome": "mailbox-failed"}]
    approvals = load_approvals(tmp_path).adding(rows, now=NOW, note="ok")
    approvals = approvals.adding(rows, now=NOW, note="again")
    save_approvals(tmp_path, approvals)
    loaded = load_approvals(tmp_path)
    assert sorted(k[2] for k in loaded.keys) == [1, 2]
    assert loaded.for_mailbox("a@x") == {("INBOX", 1), ("INBOX", 2)}
    assert LatestTable().merged(report, at=NOW).blocking(loaded.keys, 0) == {}


def test_sizes_are_human_readable() -> None:
    """Bytes, KB, MB and GB with one decimal; text cells are left alone."""
    assert [human_size(v) for v in (512, 439_000, 9_000_000, 3 << 30, "")] == [
        "512 bytes",
        "428.7 KB",
        "8.6 MB",
        "3.0 GB",
        "",
    ]
