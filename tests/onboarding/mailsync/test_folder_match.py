"""Step 3, matching by content (issue 14): a Message-ID is a hint, only bytes are identity.

Against the lab's Dovecot, with a proxy in front of the destination where it must play a
server that changes what APPEND gave it. Every pass here that matches by content starts from
a lost state store, the case that used to copy every message again ("5 became 10").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from support.append_proxy import end_with_crlf, rewriting_proxy, strip_date
from support.lab_mailbox import assert_reconciled, dest_snapshot, fill_source, source_snapshot
from support.mail import append_at_one_date, connect, contents, make_message
from support.state_stores import NewStore

from lab import Lab, LabUser
from onboarding.mailsync import MailboxPair, SyncOptions, sync_mailbox


def test_destination_setting_its_own_date_is_not_copied_again_after_a_state_loss(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair], new_store: NewStore
) -> None:
    """The destination ignores APPEND's date (DateNotKept). With the state store lost, the
    next pass finds every copy by content, the date ignored, and appends nothing; mail that
    is really new is still copied."""
    total = fill_source(lab, lab_user, {"INBOX": 14, "Archive": 10})  # two without Message-ID
    target = (lab.destination.host, lab.destination.imap_port)
    with rewriting_proxy(target, strip_date) as (port, rewriters):
        pair = pair_for(lab_user, dst_port=port)
        first = sync_mailbox(pair, SyncOptions(), new_store())
        assert sum(rw.rewritten for rw in rewriters) >= 1
        assert first.copied == total
        assert any(p.error_class == "DateNotKept" for p in first.problems)
        with connect(
            lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
        ) as c:
            c.append("INBOX", make_message(900, seed=17))
            c.append("Archive", make_message(901, seed=17, message_id=False))

        lost = new_store()
        second = sync_mailbox(pair, SyncOptions(), lost)

    assert (second.copied, second.already_present) == (2, total)
    assert all(f.identity_matched for f in second.folders)
    assert_reconciled(second)
    src, dst = source_snapshot(lab, lab_user), dest_snapshot(lab, lab_user)
    assert sum(len(v) for v in dst.values()) == total + 2
    assert contents(dst) == contents(src)  # each message once, bytes and flags kept
    assert sync_mailbox(pair_for(lab_user), SyncOptions(), lost).copied == 0


def test_destination_changing_line_endings_is_not_copied_again_after_a_state_loss(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair], new_store: NewStore
) -> None:
    """The destination stores every message ending with CRLF, so its RFC822.SIZE is not the
    source's. With the state store lost, the copies are found by their bytes (line endings
    aside), with or without a Message-ID, and nothing is appended again."""
    bodies = [make_message(i, seed=23).rstrip(b"\r\n") for i in range(6)]
    bodies += [make_message(i, seed=23, message_id=False).rstrip(b"\r\n") for i in (6, 7)]
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        for i, body in enumerate(bodies):
            c.append("INBOX", body, flags=[b"\\Seen"] if i % 2 else [])
    target = (lab.destination.host, lab.destination.imap_port)
    with rewriting_proxy(target, literal=end_with_crlf) as (port, rewriters):
        first = sync_mailbox(pair_for(lab_user, dst_port=port), SyncOptions(), new_store())
        assert sum(rw.rewritten for rw in rewriters) == len(bodies)
    assert first.in_scope == len(bodies)
    src, dst = source_snapshot(lab, lab_user), dest_snapshot(lab, lab_user)
    assert sorted(m.size for m in dst["INBOX"]) == sorted(m.size + 2 for m in src["INBOX"])

    second = sync_mailbox(pair_for(lab_user), SyncOptions(), new_store())

    assert (second.copied, second.already_present, second.failed) == (0, len(bodies), 0)
    assert_reconciled(second)
    assert len(dest_snapshot(lab, lab_user)["INBOX"]) == len(bodies)


def test_messages_sharing_message_id_date_and_size_are_told_apart_by_their_bytes(
    lab: Lab, lab_user: LabUser, pair_for: Callable[..., MailboxPair], new_store: NewStore
) -> None:
    """Two different messages with one Message-ID, INTERNALDATE and size (digests differing
    in one header value) are two messages: both copied, neither a source duplicate; with the
    state lost and only one of them at the destination, the other is copied, not merged."""
    a = make_message(1, seed=29)
    b = a.replace(b"Subject: message 1 plain", b"Subject: message 1 PLAIN")
    assert a != b and len(a) == len(b)
    with connect(
        lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
    ) as c:
        append_at_one_date(c, "INBOX", a, b, a)  # the second a: the same bytes and date
        c.append("INBOX", make_message(2, seed=29))
    pair = pair_for(lab_user)

    out = sync_mailbox(pair, SyncOptions(), new_store())

    assert (out.in_scope, out.copied, out.source_duplicates) == (4, 3, 1)
    assert_reconciled(out)
    src_bodies = {m.sha256 for m in source_snapshot(lab, lab_user)["INBOX"]}
    dst = dest_snapshot(lab, lab_user)["INBOX"]
    assert sorted(m.sha256 for m in dst) == sorted(src_bodies)  # a, b and the other: once each

    again = sync_mailbox(pair, SyncOptions(), new_store())
    assert (again.copied, again.already_present, again.source_duplicates) == (0, 3, 1)
    assert_reconciled(again)

    b_copy = next(m.uid for m in dst if m.sha256 == hashlib.sha256(b).hexdigest())
    with connect(
        lab.destination.host, lab.destination.imap_port, lab_user.email,
        lab_user.destination_password,
    ) as c:  # fmt: skip
        c.select_folder("INBOX")
        c.delete_messages([b_copy])
        c.expunge()
    third = sync_mailbox(pair, SyncOptions(), new_store())
    assert (third.copied, third.already_present, third.source_duplicates) == (1, 2, 1)
    assert_reconciled(third)
    assert sorted(m.sha256 for m in dest_snapshot(lab, lab_user)["INBOX"]) == sorted(src_bodies)
