"""What was written is checked, and one message never holds a mailbox hostage (issue 14)."""

from __future__ import annotations

from collections.abc import Callable

from support.faultproxy import FaultProxy, ResetConnection
from support.imap_filters import LiteralRewriter, add_header_to_appends, reset_on
from support.mail import connect, digests, make_message, snapshot

from lab import Lab, LabUser
from onboarding.mailsync import MailboxOutcome, MailboxPair, StateStore, SyncOptions, SyncStatus
from onboarding.mailsync import sync_mailbox as sync


def _reconciles(out: MailboxOutcome) -> bool:
    return out.reconciles and out.in_scope == (
        out.copied + out.already_present + out.source_duplicates + out.skipped + out.failed
    )


def _marked(n: int, marker: bytes, seed: int) -> bytes:
    msg = make_message(n, seed=seed)
    return msg.replace(b"Hello", marker + b" Hello", 1)


def _seed(lab: Lab, user: LabUser, folders: dict[str, list[bytes]]) -> None:
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        for folder, msgs in folders.items():
            if folder != "INBOX":
                c.create_folder(folder)
            for msg in msgs:
                c.append(folder, msg)


def _destination_count(lab: Lab, user: LabUser) -> dict[str, int]:
    with connect(
        lab.destination.host, lab.destination.imap_port, user.email, user.destination_password
    ) as c:
        return {name: len(msgs) for name, msgs in snapshot(c).items()}


def test_a_message_the_destination_stores_altered_is_reported_not_copied(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """The destination's RFC822.SIZE of each new UID is compared with the bytes sent: a
    destination that adds a header is a failed item "changed the message: N bytes instead of
    M", never copied; the counts reconcile and a re-run does not append it again."""
    msgs = [make_message(i, seed=43) for i in range(6)]
    msgs[2] = _marked(2, b"ALTERME", 43)
    _seed(lab, lab_user, {"INBOX": msgs})
    header = b"X-Scanned-By: filter\r\n"
    with FaultProxy((lab.destination.host, lab.destination.imap_port)) as dp:
        dp.filter(
            "upstream",
            lambda: LiteralRewriter(add_header_to_appends(header, when=b"ALTERME"), client=True),
        )
        pair = pair_for(lab_user, dst_port=dp.port)
        out = sync(pair, SyncOptions(), store)
        again = sync(pair, SyncOptions(), store)

    assert out.status is SyncStatus.SYNCED_WITH_ERRORS
    assert (out.in_scope, out.copied, out.failed) == (6, 5, 1) and _reconciles(out)
    (problem,) = out.problems
    sent = len(msgs[2])
    assert problem.error_class == "ChangedByDestination" and problem.outcome == "failed"
    assert problem.server_response == (
        f"the destination changed the message: {sent + len(header)} bytes instead of {sent}"
    )
    assert again.copied == 0 and _reconciles(again)
    assert _destination_count(lab, lab_user)["INBOX"] == 6


def test_a_poison_message_fails_alone_with_the_servers_last_words(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """A destination that drops the connection whenever one message is APPENDed: after two
    drops on that message it is failed with what the server said last, every other message
    (in its folder and the next) is copied exactly once, and the counts reconcile."""
    inbox = [make_message(i, seed=47) for i in range(40)]
    inbox[17] = _marked(17, b"POISON", 47)
    _seed(lab, lab_user, {"INBOX": inbox, "Archive": [make_message(i, seed=48) for i in range(8)]})
    bye = b"* BYE Internal error occurred. Refer to server log for more information.\r\n"

    def drop_with_bye(line: bytes, data: bytes) -> bytes:
        if b"POISON" in data:
            raise ResetConnection(farewell=bye)
        return line + b"\r\n" + data

    with FaultProxy((lab.destination.host, lab.destination.imap_port)) as dp:
        dp.filter("upstream", lambda: LiteralRewriter(drop_with_bye, client=True))
        out = sync(
            pair_for(lab_user, dst_port=dp.port),
            SyncOptions(fetch_batch=15, append_group=5, max_retries=3),
            store,
            sleep=lambda s: None,
        )

    assert out.status is SyncStatus.SYNCED_WITH_ERRORS
    assert (out.in_scope, out.copied, out.failed) == (48, 47, 1) and _reconciles(out)
    assert out.reconnects == 2
    (problem,) = out.problems
    assert problem.error_class == "PoisonMessage" and problem.message_id == "<m47.17@old.example>"
    assert "2 times" in problem.server_response and "Internal error occurred" in (
        problem.server_response
    )
    src = (lab.source.host, lab.source.imap_port, lab_user.email, lab_user.source_password)
    dst = (lab.destination.host, lab.destination.imap_port)
    with connect(*src) as s, connect(*dst, lab_user.email, lab_user.destination_password) as d:
        missing = digests(snapshot(s)) - digests(snapshot(d))
        assert sum(missing.values()) == 1 and not digests(snapshot(d)) - digests(snapshot(s))


def test_a_poison_message_that_only_resets_is_failed_too(
    lab: Lab, lab_user: LabUser, store: StateStore, pair_for: Callable[..., MailboxPair]
) -> None:
    """Without a farewell (a reset), the reason says there were no last words."""
    inbox = [make_message(i, seed=49) for i in range(6)]
    inbox[3] = _marked(3, b"POISON", 49)
    _seed(lab, lab_user, {"INBOX": inbox})
    with FaultProxy((lab.destination.host, lab.destination.imap_port)) as dp:
        dp.filter("upstream", lambda: LiteralRewriter(reset_on(b"POISON"), client=True))
        out = sync(pair_for(lab_user, dst_port=dp.port), SyncOptions(), store, sleep=lambda s: 0)
    assert (out.copied, out.failed) == (5, 1) and _reconciles(out)
    (problem,) = out.problems
    assert problem.error_class == "PoisonMessage" and "without an answer" in (
        problem.server_response
    )
