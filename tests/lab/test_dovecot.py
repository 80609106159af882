"""The lab's source and destination Dovecots, exercised over real IMAP and LMTP."""

from __future__ import annotations

import secrets
import smtplib

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from lab import Lab, LabUser, LabUsers

MESSAGE = b"From: a@example.test\r\nTo: b@example.test\r\nSubject: hello\r\n\r\nbody\r\n"


def _imap(port: int) -> IMAPClient:
    return IMAPClient("127.0.0.1", port=port, ssl=False, timeout=10)


@pytest.mark.parametrize("side", ["source", "destination"])
def test_user_logs_in_lists_and_appends(lab: Lab, lab_user: LabUser, side: str) -> None:
    """On both Dovecots a user logs in with its own password; LIST and APPEND work.

    The two servers use different hierarchy separators on purpose (source ``/``,
    destination ``.``), as real migrations meet them.
    """
    if side == "source":
        port, password, sep = lab.ports.source_imap, lab_user.source_password, "/"
    else:
        port, password, sep = lab.ports.destination_imap, lab_user.destination_password, "."
    nested = f"Archive{sep}2024"
    with _imap(port) as imap:
        imap.login(lab_user.email, password)
        imap.create_folder(nested)
        imap.append(nested, MESSAGE, flags=[b"\\Seen"])
        folders = imap.list_folders()
        assert {"INBOX", "Archive", nested} <= {name for _flags, _sep, name in folders}
        assert {s.decode() if isinstance(s, bytes) else s for _f, s, _n in folders} == {sep}
        assert imap.folder_status(nested, [b"MESSAGES"])[b"MESSAGES"] == 1
        imap.select_folder(nested, readonly=True)
        fetched = imap.fetch(imap.search("ALL"), ["FLAGS", "BODY.PEEK[]"])
        (data,) = fetched.values()
        assert b"\\Seen" in data[b"FLAGS"]
        assert data[b"BODY[]"] == MESSAGE


def test_source_master_login_acts_as_the_user(lab: Lab, lab_user: LabUser) -> None:
    """``user*admin`` + master password opens the user's own mailbox (Dovecot master user)."""
    with _imap(lab.ports.source_imap) as imap:
        imap.login(lab_user.email, lab_user.source_password)
        imap.append("INBOX", MESSAGE)
    with _imap(lab.ports.source_imap) as imap:
        imap.login(lab.source.master_login(lab_user.email), lab.source.master_password)
        assert imap.select_folder("INBOX")[b"EXISTS"] == 1


def test_source_master_login_rejects_wrong_password(lab: Lab, lab_user: LabUser) -> None:
    """The master login is a real check, not an open door."""
    with _imap(lab.ports.source_imap) as imap, pytest.raises(LoginError):
        imap.login(lab.source.master_login(lab_user.email), "not-the-master-password")


def test_a_new_master_user_logs_in_at_once(lab: Lab, lab_user: LabUser) -> None:
    """A master user added right after another master login works at the very next login.

    Dovecot re-reads a passwd-file at most once a second; the lab keeps master users as dict
    records so a test adding one is not refused for the rest of that second. Five rounds of
    login, add, login make the old one-second window all but certain to be hit.
    """
    for round_ in range(5):
        with _imap(lab.ports.source_imap) as imap:
            imap.login(lab.source.master_login(lab_user.email), lab.source.master_password)
        name, password = f"ops{round_}{secrets.token_hex(3)}", f"pw-{secrets.token_hex(6)}"
        lab.source.add_master_user(name, password)
        with _imap(lab.ports.source_imap) as imap:
            imap.login(f"{lab_user.email}*{name}", password)
            assert imap.select_folder("INBOX", readonly=True)


def test_destination_account_changes_apply_at_once(lab: Lab, lab_users: LabUsers) -> None:
    """A new account logs in at once; a password change and a removal apply at once too."""
    user = lab_users.new(source=False)
    with _imap(lab.ports.destination_imap) as imap:
        imap.login(user.email, user.destination_password)
        assert imap.folder_exists("Sent")  # hosted mailboxes get the standard folders
    lab.destination.set_account(user.email, "changed-password-1")
    with _imap(lab.ports.destination_imap) as imap, pytest.raises(LoginError):
        imap.login(user.email, user.destination_password)
    with _imap(lab.ports.destination_imap) as imap:
        imap.login(user.email, "changed-password-1")
    assert lab.destination.remove_account(user.email)
    with _imap(lab.ports.destination_imap) as imap, pytest.raises(LoginError):
        imap.login(user.email, "changed-password-1")


def test_destination_enforces_max_message_size(lab: Lab, lab_users: LabUsers) -> None:
    """max_message_bytes rejects a bigger APPEND with [LIMIT] and is advertised as APPENDLIMIT."""
    user = lab_users.new(max_message_bytes=50_000)
    with _imap(lab.ports.destination_imap) as imap:
        imap.login(user.email, user.destination_password)
        assert b"APPENDLIMIT=50000" in imap.capabilities()
        imap.append("INBOX", MESSAGE)
        with pytest.raises(IMAPClientError, match="LIMIT"):
            imap.append("INBOX", MESSAGE + b"x" * 60_000 + b"\r\n")
        assert imap.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"] == 1


def test_destination_enforces_quota(lab: Lab, lab_users: LabUsers) -> None:
    """quota_bytes lets mail in until the mailbox is full, then APPEND gets [OVERQUOTA]."""
    user = lab_users.new(quota_bytes=100_000)
    big = MESSAGE + b"x" * 40_000 + b"\r\n"
    with _imap(lab.ports.destination_imap) as imap:
        imap.login(user.email, user.destination_password)
        imap.append("INBOX", big)
        imap.append("INBOX", big)
        with pytest.raises(IMAPClientError, match="OVERQUOTA"):
            imap.append("INBOX", big)


def test_lmtp_delivery_lands_in_the_hosted_mailbox(lab: Lab, lab_user: LabUser) -> None:
    """A message delivered over the destination's LMTP is in the user's INBOX."""
    with smtplib.LMTP("127.0.0.1", lab.ports.destination_lmtp, timeout=10) as lmtp:
        refused = lmtp.sendmail("sender@example.test", [lab_user.email], MESSAGE)
    assert refused == {}
    with _imap(lab.ports.destination_imap) as imap:
        imap.login(lab_user.email, lab_user.destination_password)
        imap.select_folder("INBOX")
        assert b"hello" in imap.fetch("1", ["BODY.PEEK[HEADER]"])[1][b"BODY[HEADER]"]


def test_lmtp_delivery_reaches_the_source_too(lab: Lab, lab_user: LabUser) -> None:
    """The old server also accepts LMTP, so the gateway can route mail there before cutover."""
    with smtplib.LMTP("127.0.0.1", lab.ports.source_lmtp, timeout=10) as lmtp:
        lmtp.sendmail("sender@example.test", [lab_user.email], MESSAGE)
    with _imap(lab.ports.source_imap) as imap:
        imap.login(lab_user.email, lab_user.source_password)
        assert imap.select_folder("INBOX")[b"EXISTS"] == 1


def test_reset_uidvalidity_is_seen_by_imap_clients(lab: Lab, lab_user: LabUser) -> None:
    """reset_uidvalidity changes what SELECT reports (the "server rebuilt" scenario)."""
    with _imap(lab.ports.source_imap) as imap:
        imap.login(lab_user.email, lab_user.source_password)
        imap.create_folder("Projects")
        before = imap.select_folder("Projects")[b"UIDVALIDITY"]
    new = lab.source.reset_uidvalidity(lab_user.email, "Projects")
    with _imap(lab.ports.source_imap) as imap:
        imap.login(lab_user.email, lab_user.source_password)
        after = imap.select_folder("Projects")[b"UIDVALIDITY"]
    assert after == new != before


def test_restart_source_keeps_users_and_mail(lab: Lab, lab_user: LabUser) -> None:
    """After ``restart("source")`` the server answers again with the same data."""
    with _imap(lab.ports.source_imap) as imap:
        imap.login(lab_user.email, lab_user.source_password)
        imap.append("INBOX", MESSAGE)
    old_pid = lab.source.pid
    lab.restart("source")
    assert lab.source.pid not in (None, old_pid)
    with _imap(lab.ports.source_imap) as imap:
        imap.login(lab_user.email, lab_user.source_password)
        assert imap.select_folder("INBOX")[b"EXISTS"] == 1


def test_lmtp_refuses_mail_over_the_size_limit(lab: Lab, lab_users: LabUsers) -> None:
    """max_message_bytes also applies to delivery: LMTP refuses the oversized message.

    Dovecot 2.3 answers 451 4.2.0 (temporary), so a gateway keeps such mail queued and
    counted (``Gateway.queued``) rather than bouncing it."""
    user = lab_users.new(max_message_bytes=20_000)
    with (
        smtplib.LMTP("127.0.0.1", lab.ports.destination_lmtp, timeout=10) as lmtp,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        lmtp.sendmail("sender@example.test", [user.email], MESSAGE + b"x" * 30_000 + b"\r\n")
    assert refused.value.smtp_code == 451, refused.value
    assert b"maximum size" in refused.value.smtp_error
    with _imap(lab.ports.destination_imap) as imap:
        imap.login(user.email, user.destination_password)
        assert imap.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"] == 0
