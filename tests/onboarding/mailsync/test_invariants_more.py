"""Invariants the audit found coded but unproven: I1 without a UID cache, I9 on the
destination side, I5/I4 verify-after-write against a destination that ignores APPEND's date
or flags."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from support.append_proxy import rewriting_proxy, strip_date, strip_flags
from support.mail import Message, connect, digests, fill, make_message, snapshot

from lab import Lab, LabUser
from onboarding.mailsync import MailboxOutcome, MailboxPair, StateStore, SyncOptions, sync_mailbox


def _fill(lab: Lab, user: LabUser, folders: dict[str, int]) -> int:
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        return fill(c, folders)


def _dest(lab: Lab, user: LabUser) -> Counter[tuple[str, frozenset[bytes], str]]:
    with connect(
        lab.destination.host, lab.destination.imap_port, user.email, user.destination_password
    ) as c:
        return digests(snapshot(c))


def _source(lab: Lab, user: LabUser) -> Counter[tuple[str, frozenset[bytes], str]]:
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        return digests(snapshot(c))


def _dest_uidvalidity(lab: Lab, user: LabUser) -> int:
    out = lab.destination.doveadm(
        "-f", "flow", "mailbox", "status", "-u", user.email, "uidvalidity", "INBOX"
    )
    return int(out.strip().split("=", 1)[1])


def _assert_reconciled(out: MailboxOutcome) -> None:
    assert out.reconciles, out.folders
    assert out.in_scope == (
        out.copied + out.already_present + out.source_duplicates + out.skipped + out.failed
    )


def test_rerun_with_a_missing_uid_cache_copies_nothing(
    lab: Lab,
    lab_user: LabUser,
    store: StateStore,
    pair_for: Callable[..., MailboxPair],
    tmp_path: Path,
) -> None:
    """I1: the second pass starts from an empty state store and still appends nothing."""
    total = _fill(lab, lab_user, {"INBOX": 14, "Archive": 6})  # some without Message-ID
    pair = pair_for(lab_user)
    first = sync_mailbox(pair, SyncOptions(pass_kind="initial"), store)
    assert first.copied == total

    fresh = StateStore(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        second = sync_mailbox(pair, SyncOptions(pass_kind="incremental"), fresh)
    finally:
        fresh.dispose()

    assert second.copied == 0
    assert second.already_present == total
    _assert_reconciled(second)
    dst = _dest(lab, lab_user)
    assert sum(dst.values()) == total and dst == _source(lab, lab_user)  # each exactly once


def test_destination_uidvalidity_change_gives_no_duplicates_and_no_deletion(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I9, destination side: the cached mapping is dropped, matching falls back to content;
    nothing is appended twice or deleted, and new source mail is still copied."""
    n = _fill(lab, lab_user, {"INBOX": 23, "Archive": 5})
    pair = pair_for(lab_user)
    sync_mailbox(pair, SyncOptions(), store)
    before = _dest_uidvalidity(lab, lab_user)
    # The lab has reset_uidvalidity on the source only; the destination is the same Dovecot.
    lab.destination.doveadm(
        "mailbox", "update", "-u", lab_user.email, "--uid-validity", str(before + 17), "INBOX"
    )
    assert _dest_uidvalidity(lab, lab_user) == before + 17
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        c.append("INBOX", make_message(900, seed=7))
        c.append("INBOX", make_message(901, seed=7, message_id=False))

    out = sync_mailbox(pair, SyncOptions(pass_kind="final"), store)

    inbox = next(f for f in out.folders if f.source == "INBOX")
    assert inbox.identity_matched  # the engine noticed: the cached mapping was dropped
    assert (inbox.copied, inbox.already_present) == (2, 23)
    assert out.copied == 2 and out.already_present == n
    _assert_reconciled(out)
    dst = _dest(lab, lab_user)
    assert sum(dst.values()) == n + 2 and dst == _source(lab, lab_user)
    assert sync_mailbox(pair, SyncOptions(), store).copied == 0


# --- I5 / I4 verify-after-write: a destination that ignores APPEND's date or flags --------------


def _flagged(snap: dict[str, list[Message]]) -> Counter[tuple[str, frozenset[bytes]]]:
    return Counter((m.sha256, m.flags) for msgs in snap.values() for m in msgs)


def _snapshots(lab: Lab, user: LabUser) -> tuple[dict[str, list[Message]], ...]:
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        src = snapshot(c)
    with connect(
        lab.destination.host, lab.destination.imap_port, user.email, user.destination_password
    ) as c:
        return src, snapshot(c)


def test_destination_ignoring_the_append_date_is_reported_as_a_capability_problem(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I5: the read-back sample catches a destination that does not keep INTERNALDATE."""
    total = _fill(lab, lab_user, {"INBOX": 9})
    target = (lab.destination.host, lab.destination.imap_port)
    with rewriting_proxy(target, strip_date) as (port, rewriters):
        out = sync_mailbox(pair_for(lab_user, dst_port=port), SyncOptions(), store)
        assert sum(rw.rewritten for rw in rewriters) >= 1

    problems = [p for p in out.problems if p.error_class == "DateNotKept"]
    assert len(problems) == 1 and problems[0].outcome == "capability", out.problems
    assert problems[0].folder == "INBOX" and problems[0].fix
    assert out.copied == total and out.failed == out.skipped == 0
    _assert_reconciled(out)
    src, dst = _snapshots(lab, lab_user)
    assert _flagged(dst) == _flagged(src)  # bytes and flags still right
    assert not {m.internaldate for m in dst["INBOX"]} & {m.internaldate for m in src["INBOX"]}


def test_destination_dropping_append_flags_gets_them_by_store(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """I4: flags dropped from APPEND are reported (FlagsNotKept) and set again by STORE."""
    total = _fill(lab, lab_user, {"INBOX": 9})  # every 3rd message, the last one too, flagged
    target = (lab.destination.host, lab.destination.imap_port)
    with rewriting_proxy(target, strip_flags) as (port, rewriters):
        out = sync_mailbox(pair_for(lab_user, dst_port=port), SyncOptions(), store)
        assert sum(rw.rewritten for rw in rewriters) >= 1

    problems = [p for p in out.problems if p.error_class == "FlagsNotKept"]
    assert len(problems) == 1 and problems[0].outcome == "capability", out.problems
    assert not [p for p in out.problems if p.error_class == "DateNotKept"]
    assert out.copied == total and out.failed == out.skipped == 0
    _assert_reconciled(out)
    src, dst = _snapshots(lab, lab_user)
    assert digests(dst) == digests(src)  # flags set again afterwards, dates and bytes kept
    assert sync_mailbox(pair_for(lab_user), SyncOptions(), store).copied == 0


# --- I10: per-account byte budget ---------------------------------------------------------------


def test_byte_budget_stops_a_pass_and_the_next_pass_continues(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """Once a pass has copied ``byte_budget`` bytes the rest is skipped with a reason (the
    counts still reconcile); later passes continue and end with every message exactly once."""
    total = _fill(lab, lab_user, {"INBOX": 20, "Archive": 10})
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
    _assert_reconciled(first)

    copied, passes = first.copied, 1
    while copied < total:
        out = sync_mailbox(pair, options, store)
        _assert_reconciled(out)
        assert out.copied > 0 and out.already_present == copied, "no progress or a re-copy"
        assert out.bytes_copied < budget + 3_000
        copied += out.copied
        passes += 1
    assert out.skipped == 0 and not out.problems
    assert passes >= 3
    assert _dest(lab, lab_user) == _source(lab, lab_user)  # every message once, no duplicate
    assert sync_mailbox(pair, SyncOptions(), store).copied == 0


def test_byte_budget_must_be_positive() -> None:
    """A byte budget of 0 is a caller mistake (ValueError naming byte_budget)."""
    with pytest.raises(ValueError, match="byte_budget"):
        SyncOptions(byte_budget=0)
