"""The lab's hosted submission service (Postfix, 587's role): STARTTLS first, SMTP AUTH via
the hosted Dovecot's accounts, users send only as themselves, and mail to a customer domain
lands in the hosted mailbox whatever the gateway's route says."""

from __future__ import annotations

import smtplib
import ssl

import pytest
from support.delivery import inbox_subjects
from support.poll import until

from lab import Lab, LabUser, LabUsers


def _context(lab: Lab) -> ssl.SSLContext:
    """Trust exactly the lab's self-signed certificate (and check the host name)."""
    return ssl.create_default_context(cafile=str(lab.submission.cert))


def _message(sender: str, to: str, subject: str) -> bytes:
    return f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nhello\r\n".encode()


def _hosted(lab: Lab, user: LabUser) -> list[str]:
    return inbox_subjects(lab.ports.destination_imap, user.email, user.destination_password)


def _route_to_old_server(lab: Lab, domain: str) -> None:
    lab.gateway.set_route(domain, f"lmtp:inet:127.0.0.1:{lab.ports.source_lmtp}")


def test_authenticated_send_lands_in_the_hosted_mailbox_before_the_cutover(
    lab: Lab, lab_users: LabUsers
) -> None:
    """STARTTLS (the certificate verified for 127.0.0.1), AUTH as the user, a message to a
    colleague: it reaches the colleague's hosted mailbox although the domain's inbound mail
    is still routed to the old server (the hosted service is authoritative for its mailboxes)."""
    ann, bob = lab_users.new(), lab_users.new()
    _route_to_old_server(lab, ann.domain)
    with smtplib.SMTP("127.0.0.1", lab.ports.submission, timeout=10) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")  # no AUTH in clear (RFC 4954 §4)
        smtp.starttls(context=_context(lab))
        smtp.ehlo()
        assert "PLAIN" in smtp.esmtp_features["auth"].split()
        smtp.login(ann.email, ann.destination_password)
        smtp.sendmail(ann.email, [bob.email], _message(ann.email, bob.email, "first send"))
    assert until(lambda: _hosted(lab, bob) == ["first send"])
    assert inbox_subjects(lab.ports.source_imap, bob.email, bob.source_password) == []


def test_mail_to_an_alias_reaches_its_owners_hosted_mailbox(lab: Lab, lab_users: LabUsers) -> None:
    """The gateway's account aliases apply to submitted mail too."""
    ann, bob = lab_users.new(), lab_users.new()
    _route_to_old_server(lab, ann.domain)
    alias = f"sales@{bob.domain}"
    lab.gateway.set_alias(alias, bob.email)
    try:
        with smtplib.SMTP("127.0.0.1", lab.ports.submission, timeout=10) as smtp:
            smtp.starttls(context=_context(lab))
            smtp.login(ann.email, ann.destination_password)
            smtp.sendmail(ann.email, [alias], _message(ann.email, alias, "to sales"))
        assert until(lambda: _hosted(lab, bob) == ["to sales"])
    finally:
        lab.gateway.remove_alias(alias)


def test_nothing_is_accepted_without_tls_and_authentication(lab: Lab, lab_user: LabUser) -> None:
    """No open relay: before STARTTLS every MAIL is refused (530); after it, mail without AUTH
    is refused at RCPT (554), a wrong password gets 535."""
    mail = _message(lab_user.email, lab_user.email, "refused")
    with smtplib.SMTP("127.0.0.1", lab.ports.submission, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPSenderRefused) as clear:
            smtp.sendmail(lab_user.email, [lab_user.email], mail)
        assert clear.value.smtp_code == 530
    with smtplib.SMTP("127.0.0.1", lab.ports.submission, timeout=10) as smtp:
        smtp.starttls(context=_context(lab))
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail(lab_user.email, [lab_user.email], mail)
    with smtplib.SMTP("127.0.0.1", lab.ports.submission, timeout=10) as smtp:
        smtp.starttls(context=_context(lab))
        with pytest.raises(smtplib.SMTPAuthenticationError) as wrong:
            smtp.login(lab_user.email, lab_user.destination_password + "x")
        assert wrong.value.smtp_code == 535


def test_a_user_sends_only_as_themselves(lab: Lab, lab_users: LabUsers) -> None:
    """An authenticated user may not use another address as the envelope sender (553)."""
    ann, bob = lab_users.new(), lab_users.new()
    with smtplib.SMTP("127.0.0.1", lab.ports.submission, timeout=10) as smtp:
        smtp.starttls(context=_context(lab))
        smtp.login(ann.email, ann.destination_password)
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            smtp.sendmail(bob.email, [bob.email], _message(bob.email, bob.email, "forged"))
        ((code, _),) = caught.value.recipients.values()
        assert code == 553


def test_smtp_auth_can_be_refused_for_one_account_while_imap_works(
    lab: Lab, lab_user: LabUser
) -> None:
    """``refuse_submission``: the account's SMTP AUTH fails (535) but it still logs in to IMAP;
    turning it back on restores the send."""
    lab.destination.refuse_submission(lab_user.email)
    try:
        with smtplib.SMTP("127.0.0.1", lab.ports.submission, timeout=10) as smtp:
            smtp.starttls(context=_context(lab))
            with pytest.raises(smtplib.SMTPAuthenticationError):
                smtp.login(lab_user.email, lab_user.destination_password)
        assert _hosted(lab, lab_user) == []  # IMAP login still accepted
    finally:
        lab.destination.refuse_submission(lab_user.email, False)
    with smtplib.SMTP("127.0.0.1", lab.ports.submission, timeout=10) as smtp:
        smtp.starttls(context=_context(lab))
        smtp.login(lab_user.email, lab_user.destination_password)


def test_status_lists_the_service_and_env_has_the_notice_sender(lab: Lab) -> None:
    """``lab status`` shows the submission server healthy on its port; the notice sender's
    password is a Secret-block stand-in in ``lab env``, and the account logs in."""
    info = lab.status().server("submission")
    assert info.healthy and info.ports == {"submission": lab.ports.submission}
    password = lab.secret_env()["ONBOARD_SECRET_MAILROUTE_NOTICES"]
    with smtplib.SMTP("127.0.0.1", lab.ports.submission, timeout=10) as smtp:
        smtp.starttls(context=_context(lab))
        smtp.login("onboarding@mailroute.test", password)
