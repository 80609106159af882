"""Test accounts against the lab's hosted IMAP and submission service: a working account
passes all three stages; each broken stage is named with the server's reason, no password."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from imapclient import IMAPClient
from pydantic import SecretStr

from lab import Lab, LabUser
from onboarding.mailflow import (
    ImapEndpoint,
    SendFailed,
    SubmissionEndpoint,
    check_client_account,
    submit,
)
from onboarding.mailflow.client_check import _test_message


@dataclass(frozen=True)
class _Login:
    email: str
    password: SecretStr


def _ends(lab: Lab) -> tuple[ImapEndpoint, SubmissionEndpoint]:
    return (
        ImapEndpoint("127.0.0.1", lab.ports.destination_imap, "none"),
        SubmissionEndpoint("127.0.0.1", lab.ports.submission, timeout=10),
    )


def _login(user: LabUser, password: str | None = None) -> _Login:
    return _Login(user.email, SecretStr(password or user.destination_password))


def _inbox_count(lab: Lab, user: LabUser) -> int:
    with IMAPClient("127.0.0.1", port=lab.ports.destination_imap, ssl=False) as imap:
        imap.login(user.email, user.destination_password)
        return int(imap.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"])


def test_a_working_account_passes_and_leaves_no_test_mail(lab: Lab, lab_user: LabUser) -> None:
    """IMAP login, authenticated send to itself over STARTTLS, receipt: ok; the test message
    is removed once found. The hosted submission
    service delivers to its own mailboxes, although the gateway routes the domain to the
    old server."""
    imap, submission = _ends(lab)
    lab.gateway.set_route(lab_user.domain, f"lmtp:inet:127.0.0.1:{lab.ports.source_lmtp}")
    check = check_client_account(imap, submission, _login(lab_user), timeout=20)
    assert check.ok, check.reason
    assert check.seconds is not None and check.seconds < 20
    assert _inbox_count(lab, lab_user) == 0


def test_smtp_auth_refused_is_the_submission_stage_with_the_servers_reason(
    lab: Lab, lab_user: LabUser
) -> None:
    """An account whose SMTP AUTH is turned off logs in to IMAP but fails at ``submission``
    with the 535 answer; nothing was sent."""
    imap, submission = _ends(lab)
    lab.destination.refuse_submission(lab_user.email)
    try:
        check = check_client_account(imap, submission, _login(lab_user), timeout=5)
    finally:
        lab.destination.refuse_submission(lab_user.email, False)
    assert not check.ok and check.stage == "submission"
    assert "SMTP AUTH refused (535" in (check.error or ""), check.error
    assert lab_user.destination_password not in check.reason
    assert _inbox_count(lab, lab_user) == 0


def test_a_wrong_password_fails_at_imap_first(lab: Lab, lab_user: LabUser) -> None:
    """A wrong password is found at the first stage, the IMAP login."""
    imap, submission = _ends(lab)
    check = check_client_account(imap, submission, _login(lab_user, "Wrong-pw-1234"), timeout=5)
    assert not check.ok and check.stage == "imap" and "Wrong-pw-1234" not in check.reason


def test_no_starttls_offered_means_no_password_is_sent(lab: Lab, lab_user: LabUser) -> None:
    """A server without STARTTLS (the gateway's port here) is refused before AUTH: a client
    would send the password in clear."""
    server = SubmissionEndpoint("127.0.0.1", lab.ports.gateway_smtp, timeout=10)
    with pytest.raises(SendFailed, match="does not offer STARTTLS"):
        submit(
            server,
            lab_user.email,
            lab_user.destination_password,
            _test_message(lab_user.email, "t"),
            recipients=(lab_user.email,),
        )


def test_a_non_ascii_password_is_sent_as_utf8_and_never_leaks(lab: Lab, lab_user: LabUser) -> None:
    """AUTH PLAIN carries a non-ASCII password as UTF-8 (RFC 4616): it works when right, and
    when wrong the error holds no form of it (smtplib's own login would raise with it)."""
    imap, submission = _ends(lab)
    lab.gateway.set_route(lab_user.domain, f"lmtp:inet:127.0.0.1:{lab.ports.destination_lmtp}")
    password = "Grüner-Baum-2024ß"
    lab.destination.set_account(lab_user.email, password)
    good = check_client_account(
        imap, submission, _Login(lab_user.email, SecretStr(password)), timeout=20
    )
    assert good.ok, good.reason
    with pytest.raises(SendFailed) as caught:
        submit(
            submission,
            lab_user.email,
            password + "ü",
            _test_message(lab_user.email, "t"),
            recipients=(lab_user.email,),
        )
    assert "535" in str(caught.value) and "Grüner" not in str(caught.value)
