"""The lab gateway (Postfix): routing by transport map, hold and release per domain."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable

import pytest
from imapclient import IMAPClient

from lab import Lab, LabUser, LabUsers


def _send(lab: Lab, to: str, subject: str) -> None:
    message = f"From: sender@example.test\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nhello\r\n"
    with smtplib.SMTP("127.0.0.1", lab.ports.gateway_smtp, timeout=10) as smtp:
        smtp.sendmail("sender@example.test", [to], message.encode())


def _subjects(port: int, email: str, password: str) -> list[str]:
    with IMAPClient("127.0.0.1", port=port, ssl=False, timeout=10) as imap:
        imap.login(email, password)
        imap.select_folder("INBOX", readonly=True)
        found = imap.fetch(imap.search(), ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
        return sorted(
            data[b"BODY[HEADER.FIELDS (SUBJECT)]"].decode().split(":", 1)[1].strip()
            for data in found.values()
        )


def _until(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def _route_to(lab: Lab, domain: str, server: str) -> None:
    port = lab.ports.source_lmtp if server == "source" else lab.ports.destination_lmtp
    lab.gateway.set_route(domain, f"lmtp:inet:127.0.0.1:{port}")


def test_mail_goes_where_the_domain_is_routed(lab: Lab, lab_user: LabUser) -> None:
    """Routed to the old server, mail lands there; after the switch, new mail lands on the
    hosted mailbox and the old one gets nothing more."""
    src = (lab.ports.source_imap, lab_user.email, lab_user.source_password)
    dst = (lab.ports.destination_imap, lab_user.email, lab_user.destination_password)
    _route_to(lab, lab_user.domain, "source")
    _send(lab, lab_user.email, "before cutover")
    assert _until(lambda: _subjects(*src) == ["before cutover"])

    _route_to(lab, lab_user.domain, "destination")
    assert lab.gateway.route(lab_user.domain) == f"lmtp:inet:127.0.0.1:{lab.ports.destination_lmtp}"
    _send(lab, lab_user.email, "after cutover")
    assert _until(lambda: _subjects(*dst) == ["after cutover"])
    assert _subjects(*src) == ["before cutover"]


def test_unrouted_domain_is_refused(lab: Lab, lab_users: LabUsers) -> None:
    """The gateway is no open relay: a domain without a route gets 554 at RCPT."""
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(lab, f"someone@{lab_users.domain}", "nowhere")


def test_held_mail_stays_queued_until_release(lab: Lab, lab_users: LabUsers) -> None:
    """During a hold, mail is accepted and counted in the queue, not delivered; release
    delivers all of it, none lost; the other domains flow on meanwhile."""
    user = lab_users.new()
    other = lab_users.new(domain=f"other-{lab_users.domain}")
    for u in (user, other):
        _route_to(lab, u.domain, "destination")
    dst = (lab.ports.destination_imap, user.email, user.destination_password)

    lab.gateway.hold(user.domain)
    assert lab.gateway.is_held(user.domain)
    subjects = [f"held {i}" for i in range(3)]
    for subject in subjects:
        _send(lab, user.email, subject)
    _send(lab, other.email, "not held")
    assert _until(
        lambda: (
            _subjects(lab.ports.destination_imap, other.email, other.destination_password)
            == ["not held"]
        )
    )
    assert lab.gateway.queued(user.domain) == 3
    assert lab.gateway.held(user.domain) == 3
    assert _subjects(*dst) == []

    assert lab.gateway.release(user.domain) == 3
    assert not lab.gateway.is_held(user.domain)
    assert _until(lambda: _subjects(*dst) == subjects)
    assert _until(lambda: lab.gateway.queued(user.domain) == 0)


def test_hold_also_holds_mail_already_waiting(lab: Lab, lab_users: LabUsers) -> None:
    """Mail deferred before the hold (server down) is held too, so none slips through."""
    user = lab_users.new()
    lab.gateway.set_route(user.domain, "lmtp:inet:127.0.0.1:9")  # nothing listens: deferred
    _send(lab, user.email, "waiting")
    assert _until(
        lambda: any(
            m.queue_name == "deferred" for m in lab.gateway.queue() if m.for_domain(user.domain)
        )
    )
    lab.gateway.hold(user.domain)
    assert lab.gateway.held(user.domain) == 1
    _route_to(lab, user.domain, "destination")
    lab.gateway.release(user.domain)
    assert _until(
        lambda: (
            _subjects(lab.ports.destination_imap, user.email, user.destination_password)
            == ["waiting"]
        )
    )


def test_bad_route_is_a_caller_error(lab: Lab) -> None:
    """A route must be a Postfix transport; a bare host is refused before anything changes."""
    with pytest.raises(ValueError, match="transport"):
        lab.gateway.set_route("acme.test", "127.0.0.1 11024")
