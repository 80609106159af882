"""Invariants the audit found coded but unproven: I1 without a UID cache, I9 on the
destination side, I5/I4 verify-after-write against a destination that ignores APPEND's date
or flags."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.append_proxy import rewriting_proxy, strip_date, strip_flags
from support.lab_mailbox import (
    append_new_mail,
    assert_reconciled,
    dest_snapshot,
    fill_source,
    source_snapshot,
)
from support.mail import contents, digests
from support.state_stores import NewStore

from lab import Lab, LabUser
from onboarding.mailsync import (
    MailboxOutcome,
    MailboxPair,
    MessageProblem,
    StateStore,
    SyncOptions,
    sync_mailbox,
)


def _dest_uidvalidity(lab: Lab, user: LabUser) -> int:
    out = lab.destination.doveadm(
        "-f", "flow", "mailbox", "status", "-u", user.email, "uidvalidity", "INBOX"
    )
    return int(out.strip().split("=", 1)[1])


def test_rerun_with_a_missing_uid_cache_copies_nothing(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair], new_store: NewStore
) -> None:
    """I1: the second pass starts from an empty state store and still appends nothing."""
    total = fill_source(lab, lab_user, {"INBOX": 14, "Archive": 6})  # some without Message-ID
    pair = pair_for(lab_user)
    first = sync_mailbox(pair, SyncOptions(pass_kind="initial"), new_store())
    assert first.copied == total

    second = sync_mailbox(pair, SyncOptions(pass_kind="incremental"), new_store())

    assert second.copied == 0
    assert second.already_present == total
    assert_reconciled(second)
    dst, src = digests(dest_snapshot(lab, lab_user)), digests(source_snapshot(lab, lab_user))
    assert sum(dst.values()) == total and dst == src  # each exactly once


def test_destination_uidvalidity_change_gives_no_duplicates_and_no_deletion(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I9, destination side: the cached mapping is dropped, matching falls back to content;
    nothing is appended twice or deleted, and new source mail is still copied."""
    n = fill_source(lab, lab_user, {"INBOX": 23, "Archive": 5})
    pair = pair_for(lab_user)
    sync_mailbox(pair, SyncOptions(), store)
    before = _dest_uidvalidity(lab, lab_user)
    # The lab has reset_uidvalidity on the source only; the destination is the same Dovecot.
    lab.destination.doveadm(
        "mailbox", "update", "-u", lab_user.email, "--uid-validity", str(before + 17), "INBOX"
    )
    assert _dest_uidvalidity(lab, lab_user) == before + 17
    append_new_mail(lab, lab_user)

    out = sync_mailbox(pair, SyncOptions(pass_kind="final"), store)

    inbox = next(f for f in out.folders if f.source == "INBOX")
    assert inbox.identity_matched  # the engine noticed: the cached mapping was dropped
    assert (inbox.copied, inbox.already_present) == (2, 23)
    assert out.copied == 2 and out.already_present == n
    assert_reconciled(out)
    dst = digests(dest_snapshot(lab, lab_user))
    assert sum(dst.values()) == n + 2 and dst == digests(source_snapshot(lab, lab_user))
    assert sync_mailbox(pair, SyncOptions(), store).copied == 0


# --- I5 / I4 verify-after-write: a destination that ignores APPEND's date or flags --------------


def _sync_through(
    lab: Lab,
    user: LabUser,
    store: StateStore,
    pair_for: Callable[..., MailboxPair],
    rewrite: Callable[[bytes], bytes],
    error_class: str,
) -> tuple[MailboxOutcome, list[MessageProblem]]:
    """One pass to a destination behind ``rewrite``; it must report ``error_class`` once, as a
    destination-wide capability finding."""
    target = (lab.destination.host, lab.destination.imap_port)
    with rewriting_proxy(target, rewrite) as (port, rewriters):
        out = sync_mailbox(pair_for(user, dst_port=port), SyncOptions(), store)
        assert sum(rw.rewritten for rw in rewriters) >= 1

    problems = [p for p in out.problems if p.error_class == error_class]
    assert len(problems) == 1 and problems[0].outcome == "capability", out.problems
    return out, problems


def test_destination_ignoring_the_append_date_is_reported_as_a_capability_problem(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I5: the read-back sample catches a destination that does not keep INTERNALDATE."""
    total = fill_source(lab, lab_user, {"INBOX": 9})
    out, problems = _sync_through(lab, lab_user, store, pair_for, strip_date, "DateNotKept")
    assert problems[0].folder == "INBOX" and problems[0].fix
    assert out.copied == total and out.failed == out.skipped == 0
    assert_reconciled(out)
    src, dst = source_snapshot(lab, lab_user), dest_snapshot(lab, lab_user)
    assert contents(dst) == contents(src)  # bytes and flags still right
    assert not {m.internaldate for m in dst["INBOX"]} & {m.internaldate for m in src["INBOX"]}


def test_destination_dropping_append_flags_gets_them_by_store(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I4: flags dropped from APPEND are reported (FlagsNotKept) and set again by STORE."""
    total = fill_source(lab, lab_user, {"INBOX": 9})  # every 3rd message, the last one too, flagged
    out, _ = _sync_through(lab, lab_user, store, pair_for, strip_flags, "FlagsNotKept")
    assert not [p for p in out.problems if p.error_class == "DateNotKept"]
    assert out.copied == total and out.failed == out.skipped == 0
    assert_reconciled(out)
    src, dst = source_snapshot(lab, lab_user), dest_snapshot(lab, lab_user)
    assert digests(dst) == digests(src)  # flags set again afterwards, dates and bytes kept
    assert sync_mailbox(pair_for(lab_user), SyncOptions(), store).copied == 0


# --- I10: per-account byte budget ---------------------------------------------------------------


def test_byte_budget_stops_a_pass_and_the_next_pass_continues(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """Once a pass has copied ``byte_budget`` bytes the rest is skipped with a reason (the
    counts still reconcile); later passes continue and end with every message exactly once."""
    total = fill_source(lab, lab_user, {"INBOX": 20, "Archive": 10})
    pair = pair_for(lab_user)
    budget = 12_000
    options = SyncOptions(byte_budget=budget, fetch_batch=4)

    first = sync_mailbox(pair, options, store)

    assert first.copied > 0 and first.skipped > 0 and first.failed == 0
    assert budget <= first.bytes_copied < budget + 3_000  # stops within one message (≤ 2.9 kB)
    over = [p for p in first.problems if p.error_class == "ByteBudget"]
    assert len(over) == first.skipped
    assert {p.outcome for p in over} == {"skipped"}
    assert over[0].server_response == "byte budget reached; the next pass continues"
    assert_reconciled(first)

    copied, passes = first.copied, 1
    while copied < total:
        out = sync_mailbox(pair, options, store)
        assert_reconciled(out)
        assert out.copied > 0 and out.already_present == copied, "no progress or a re-copy"
        assert out.bytes_copied < budget + 3_000
        copied += out.copied
        passes += 1
    assert out.skipped == 0 and not out.problems
    assert passes >= 3
    dst, src = digests(dest_snapshot(lab, lab_user)), digests(source_snapshot(lab, lab_user))
    assert dst == src  # every message once, no duplicate
    assert sync_mailbox(pair, SyncOptions(), store).copied == 0


def test_byte_budget_must_be_positive() -> None:
    """A byte budget of 0 is a caller mistake (ValueError naming byte_budget)."""
    with pytest.raises(ValueError, match="byte_budget"):
        SyncOptions(byte_budget=0)
