"""Outcome arithmetic: the I2 equation per folder and per mailbox, rates, the quota verdict."""

from __future__ import annotations

import pytest

from onboarding.mailsync import (
    FolderInfo,
    FolderOutcome,
    MailboxOutcome,
    PreflightReport,
    SidePreflight,
    SyncOptions,
    SyncStatus,
)


def test_reconciles_is_the_i2_equation() -> None:
    """A folder reconciles when in scope = copied + already present + source duplicates + skipped +
    failed; a mailbox reconciles only when every folder does, sums its folders and gives messages
    per second (0 without a duration)."""
    ok = FolderOutcome("INBOX", "INBOX", in_scope=10, copied=5, already_present=2,
                       source_duplicates=1, skipped=1, failed=1)  # fmt: skip
    off = FolderOutcome("Sent", "Sent", in_scope=10, copied=9)
    assert ok.reconciles and not off.reconciles
    both = MailboxOutcome("a@x", "initial", SyncStatus.SYNCED, (ok, off), seconds=2.0)
    assert not both.reconciles
    assert (both.in_scope, both.copied, both.failed) == (20, 14, 1)
    assert both.messages_per_second == 7.0
    assert MailboxOutcome("a@x", "final", SyncStatus.SYNCED, (ok,)).messages_per_second == 0.0


def test_preflight_totals_and_fit() -> None:
    """A preflight report sums the source's messages and bytes (a \\Noselect folder counts nothing),
    fits only when the destination quota has room (None when unknown), and is not ok when a side is
    down."""
    folders = (
        FolderInfo("INBOX", "/", (), 3, 3000),
        FolderInfo("[Gmail]", "/", ("\\Noselect",), None, None),
    )
    src = SidePreflight("source", "h:1", True, folders=folders)
    full = SidePreflight("destination", "h:2", True, quota_used_bytes=8000, quota_limit_bytes=10000)
    assert PreflightReport("a@x", src, full).fits is False
    assert (
        PreflightReport("a@x", src, full).messages,
        PreflightReport("a@x", src, full).bytes,
    ) == (
        3,
        3000,
    )
    unknown = SidePreflight("destination", "h:2", True)
    assert PreflightReport("a@x", src, unknown).fits is None
    down = SidePreflight("destination", "h:2", False, error_class="ConnectFailed")
    assert not PreflightReport("a@x", src, down).ok


@pytest.mark.parametrize(
    "kwargs",
    [{"pass_kind": "delta"}, {"fetch_batch": 0}, {"pipeline_depth": 0}, {"max_retries": -1}],
)
def test_impossible_options_are_caller_mistakes(kwargs: dict[str, object]) -> None:
    """An unknown pass kind, a zero batch or pipeline depth, or negative retries is a ValueError."""
    with pytest.raises(ValueError):
        SyncOptions(**kwargs)  # type: ignore[arg-type]
