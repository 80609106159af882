"""The lab gateway (Postfix): routing by transport map, hold and release per domain."""

from __future__ import annotations

import smtplib

import pytest
from support.delivery import inbox_subjects, send
from support.poll import until

from lab import Lab, LabUser, LabUsers


def _send(lab: Lab, to: str, subject: str) -> None:
    send(lab.ports.gateway_smtp, to, subject)


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
    assert until(lambda: inbox_subjects(*src) == ["before cutover"])

    _route_to(lab, lab_user.domain, "destination")
    assert lab.gateway.route(lab_user.domain) == f"lmtp:inet:127.0.0.1:{lab.ports.destination_lmtp}"
    _send(lab, lab_user.email, "after cutover")
    assert until(lambda: inbox_subjects(*dst) == ["after cutover"])
    assert inbox_subjects(*src) == ["before cutover"]


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
    assert until(
        lambda: (
            inbox_subjects(lab.ports.destination_imap, other.email, other.destination_password)
            == ["not held"]
        )
    )
    assert lab.gateway.queued(user.domain) == 3
    assert lab.gateway.held(user.domain) == 3
    assert inbox_subjects(*dst) == []

    assert lab.gateway.release(user.domain) == 3
    assert not lab.gateway.is_held(user.domain)
    assert until(lambda: inbox_subjects(*dst) == subjects)
    assert until(lambda: lab.gateway.queued(user.domain) == 0)


def test_hold_also_holds_mail_already_waiting(lab: Lab, lab_users: LabUsers) -> None:
    """Mail deferred before the hold (server down) is held too, so none slips through."""
    user = lab_users.new()
    lab.gateway.set_route(user.domain, "lmtp:inet:127.0.0.1:9")  # nothing listens: deferred
    _send(lab, user.email, "waiting")
    assert until(
        lambda: any(
            m.queue_name == "deferred" for m in lab.gateway.queue() if m.for_domain(user.domain)
        )
    )
    lab.gateway.hold(user.domain)
    assert lab.gateway.held(user.domain) == 1
    _route_to(lab, user.domain, "destination")
    lab.gateway.release(user.domain)
    assert until(
        lambda: (
            inbox_subjects(lab.ports.destination_imap, user.email, user.destination_password)
            == ["waiting"]
        )
    )


def test_bad_route_is_a_caller_error(lab: Lab) -> None:
    """A route must be a Postfix transport; a bare host is refused before anything changes."""
    with pytest.raises(ValueError, match="transport"):
        lab.gateway.set_route("acme.test", "127.0.0.1 11024")
