"""Bodies come from the source byte-exact (NUL bytes included), and a body-less answer is a
failed item unless the message is really gone (issue 14)."""

from __future__ import annotations

from collections.abc import Callable

from support.faultproxy import FaultProxy
from support.imap_filters import LiteralRewriter, drop_body_of
from support.mail import connect, digests, make_message, snapshot
from support.raw_imap import append_binary, fetch_binary

from lab import Lab, LabUser
from onboarding.mailsync import MailboxOutcome, MailboxPair, StateStore, SyncOptions, SyncStatus
from onboarding.mailsync import sync_mailbox as sync
from onboarding.mailsync.body_fetch import may_hide_nuls


def _reconciles(out: MailboxOutcome) -> bool:
    return out.reconciles and out.in_scope == (
        out.copied + out.already_present + out.source_duplicates + out.skipped + out.failed
    )


def _seed(lab: Lab, user: LabUser, n: int) -> list[int]:
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        for i in range(n):
            c.append("INBOX", make_message(i, seed=41))
        c.select_folder("INBOX", readonly=True)
        return sorted(c.search("ALL"))


def test_utf8_text_is_not_taken_for_replaced_nul_bytes() -> None:
    """0x80 inside valid UTF-8 (``—`` is E2 80 94) is text; one outside it may be a NUL."""
    assert not may_hide_nuls("plain — “quoted” €".encode())
    assert not may_hide_nuls(b"ascii only")
    assert may_hide_nuls(b"hello\x80world")  # Dovecot's BODY[] for hello\0world
    assert may_hide_nuls("é".encode() + b"\x80")


def test_a_fetch_without_the_body_is_a_failed_item_and_the_next_pass_copies_it(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A source answering ``BODY[] NIL`` (or no body item) for a message that a fresh UID
    SEARCH still finds: failed with the server's answer, the mailbox is not Synced, the counts
    reconcile, and the next pass copies it."""
    uids = _seed(lab, lab_user, 6)
    with FaultProxy((lab.source.host, lab.source.imap_port)) as sp:
        sp.filter("downstream", lambda: LiteralRewriter(drop_body_of({uids[1]})))
        first = sync(pair_for(lab_user, src_port=sp.port), SyncOptions(), store)
        sp.filter("downstream", lambda: LiteralRewriter(drop_body_of({uids[3]}, mode="none")))
        second = sync(pair_for(lab_user, src_port=sp.port), SyncOptions(), store)

    assert first.status is SyncStatus.SYNCED_WITH_ERRORS
    assert (first.in_scope, first.copied, first.failed) == (6, 5, 1) and _reconciles(first)
    (problem,) = first.problems
    assert (problem.uid, problem.error_class, problem.outcome) == (uids[1], "NoBody", "failed")
    assert "without BODY[] (NIL)" in problem.server_response
    assert (second.copied, second.already_present, second.failed) == (1, 5, 0), second.problems
    assert second.status is SyncStatus.SYNCED and _reconciles(second)
    with connect(
        lab.destination.host, lab.destination.imap_port, lab_user.email,
        lab_user.destination_password,
    ) as c:  # fmt: skip
        c.select_folder("INBOX", readonly=True)
        assert len(c.search("ALL")) == 6


def test_a_message_expunged_before_its_fetch_is_out_of_scope(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """The body-less answer of a message that is really gone (expunged by another session
    between listing and fetch): out of scope, nothing failed, Synced."""
    uids = _seed(lab, lab_user, 5)
    gone = uids[2]

    def expunge_then_drop(line: bytes, data: bytes) -> bytes:
        if b"UID %d " % gone in line and b"BODY[]" in line:
            with connect(
                lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password
            ) as c:
                c.select_folder("INBOX")
                c.delete_messages([gone])
                c.expunge()
        return drop_body_of({gone})(line, data)

    with FaultProxy((lab.source.host, lab.source.imap_port)) as sp:
        sp.filter("downstream", lambda: LiteralRewriter(expunge_then_drop))
        out = sync(pair_for(lab_user, src_port=sp.port), SyncOptions(), store)
    assert out.status is SyncStatus.SYNCED, out.problems
    assert (out.in_scope, out.copied, out.failed) == (4, 4, 0) and _reconciles(out)


def test_nul_bytes_arrive_byte_identical(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """NUL bytes travel as literal8 where both sides offer BINARY (RFC 3516); a base64 part
    beside 8-bit text (which BINARY would decode) and a Latin-1 body stay byte-identical."""
    src = (lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password)
    with_nul = b"From: a@old.example\r\nMessage-ID: <nul1@t>\r\n\r\nab\0cd\r\n\0\0\r\n"
    utf8_nul = "From: a@old.example\r\nMessage-ID: <nul2@t>\r\n\r\nGrüße — ".encode() + b"\0x\r\n"
    encoded = (
        "From: a@old.example\r\nMessage-ID: <b64@t>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Grüße — é\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b--\r\n"
    ).encode()
    latin1 = b"From: a@old.example\r\nMessage-ID: <l1@t>\r\n\r\nprice 5\x80 caf\xe9\r\n"
    for msg in (with_nul, utf8_nul, encoded, latin1):
        append_binary(*src, "INBOX", msg)

    out = sync(pair_for(lab_user), SyncOptions(), store)

    assert (out.copied, out.failed) == (4, 0) and out.status is SyncStatus.SYNCED, out.problems
    dst = (lab.destination.host, lab.destination.imap_port)
    got = fetch_binary(*dst, lab_user.email, lab_user.destination_password, "INBOX")
    assert sorted(got.values()) == sorted(fetch_binary(*src, "INBOX").values())
    assert with_nul in got.values() and utf8_nul in got.values()
    with (
        connect(*src) as s,
        connect(*dst, lab_user.email, lab_user.destination_password) as d,
    ):  # BODY[] equal too: BINARY[] alone would hide a decoded base64 part
        assert digests(snapshot(d)) == digests(snapshot(s))
