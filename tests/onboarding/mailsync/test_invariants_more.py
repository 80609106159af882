"""Invariants the audit found coded but unproven: I1 without a UID cache, I9 on the
destination side, I5/I4 verify-after-write against a destination that ignores APPEND's date
or flags."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from support.mail import connect, digests, fill, make_message, snapshot

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
