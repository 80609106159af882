"""Sending notices through the lab's hosted submission service: once per user and cutover,
recorded after each send; a refused sender is each user's reason; never a password."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from imapclient import IMAPClient
from support.poll import until

from lab import Lab, LabUser, LabUsers
from onboarding.mailflow import SubmissionEndpoint
from onboarding.notices import (
    NOTICE_HEADER,
    ClientSettings,
    Notice,
    NoticeContext,
    NoticeLog,
    NoticeSender,
    SupportContacts,
    send_notices,
)

SENDER = "onboarding@mailroute.test"


def _notice(user: LabUser) -> Notice:
    context = NoticeContext(
        customer="Acme Corp",
        email=user.email,
        aliases=(),
        settings=ClientSettings("imap.mailroute.test", "smtp.mailroute.test"),
        support=SupportContacts("support@mailroute.net", "sales@mailroute.net"),
        ready_at=datetime.now(UTC),
    )
    return Notice(context, (user.destination_password,))


def _notices_in(lab: Lab, user: LabUser) -> list[bytes]:
    with IMAPClient("127.0.0.1", port=lab.ports.destination_imap, ssl=False) as imap:
        imap.login(user.email, user.destination_password)
        imap.select_folder("INBOX", readonly=True)
        uids = imap.search(["HEADER", NOTICE_HEADER, ""])
        return [d[b"RFC822"] for d in imap.fetch(uids, ["RFC822"]).values()]


def _sender(lab: Lab, password: str | None = None) -> NoticeSender:
    return NoticeSender(SENDER, password or lab.secret_env()["ONBOARD_SECRET_MAILROUTE_NOTICES"])


def test_each_user_gets_one_notice_and_a_rerun_sends_none(
    lab: Lab, lab_users: LabUsers, tmp_path: Path
) -> None:
    """Two users: each hosted INBOX gets exactly one welcome from the notice account (the
    domain's inbound route still points at the old server); the record names both; a second
    call for the same cutover sends nothing, a new cutover id would send again."""
    users = [lab_users.new(), lab_users.new()]
    lab.gateway.set_route(users[0].domain, f"lmtp:inet:127.0.0.1:{lab.ports.source_lmtp}")
    submission = SubmissionEndpoint("127.0.0.1", lab.ports.submission, timeout=10)
    book = NoticeLog(tmp_path / "notices.jsonl")
    args = {"language": "en", "cutover_id": "20261127T040000Z", "log_book": book}
    first = send_notices(
        submission, _sender(lab), "welcome", notices=[_notice(u) for u in users], **args
    )
    assert first.ok and first.count("sent") == 2, first.message
    for user in users:
        assert until(lambda u=user: len(_notices_in(lab, u)) == 1)  # type: ignore[misc]
        (raw,) = _notices_in(lab, user)
        assert b"From: MailRoute Onboarding <onboarding@mailroute.test>" in raw
        assert user.destination_password.encode() not in raw
    assert set(book.sent("20261127T040000Z", "welcome")) == {u.email for u in users}

    again = send_notices(
        submission, _sender(lab), "welcome", notices=[_notice(u) for u in users], **args
    )
    assert again.count("sent") == 0 and again.count("already-sent") == 2
    assert book.sent("20261127T040000Z", "before_cutover") == {}
    assert all(len(_notices_in(lab, u)) == 1 for u in users)


def test_a_refused_sender_fails_each_notice_with_the_reason(
    lab: Lab, lab_user: LabUser, tmp_path: Path
) -> None:
    """A wrong notice-account password: every notice is ``failed`` with the 535 answer, no
    record is written (a re-run will send them) and no password shows."""
    submission = SubmissionEndpoint("127.0.0.1", lab.ports.submission, timeout=10)
    book = NoticeLog(tmp_path / "notices.jsonl")
    report = send_notices(
        submission,
        _sender(lab, "Wrong-pass-1234"),
        "before_cutover",
        language="de",
        cutover_id="c1",
        notices=[_notice(lab_user)],
        log_book=book,
    )
    ((outcome),) = report.results
    assert outcome.status == "failed" and "535" in (outcome.error or "")
    assert "Wrong-pass-1234" not in report.message and not report.ok
    assert book.sent("c1", "before_cutover") == {}


def test_a_torn_record_line_is_ignored(tmp_path: Path) -> None:
    """A crash mid-write leaves half a line: the record still reads, minus that notice."""
    book = NoticeLog(tmp_path / "n.jsonl")
    book.record("c1", "welcome", "Ann@acme.test", datetime(2026, 1, 1, tzinfo=UTC))
    with (tmp_path / "n.jsonl").open("a") as fh:
        fh.write('{"cutover_id": "c1", "kind": "welc')
    assert set(book.sent("c1", "welcome")) == {"ann@acme.test"}
