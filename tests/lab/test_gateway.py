"""The lab gateway (Postfix): routing by transport map, hold and release per domain,
email-account aliases by virtual alias map."""

from __future__ import annotations

import smtplib

import pytest
from support.delivery import inbox_subjects, send
from support.poll import until

from lab import Lab, LabUser, LabUsers, unique_domain

BOUNCE = "Undelivered Mail Returned to Sender"  # Postfix's non-delivery notice


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


def test_mail_to_an_alias_reaches_the_account_where_the_domain_is_routed(
    lab: Lab, lab_user: LabUser
) -> None:
    """An alias is rewritten to its account and routed by the account's domain: to the old
    server before cutover, to the hosted mailbox after; the alias is no mailbox of its own."""
    alias = f"sales@{lab_user.domain}"
    src = (lab.ports.source_imap, lab_user.email, lab_user.source_password)
    dst = (lab.ports.destination_imap, lab_user.email, lab_user.destination_password)
    lab.gateway.set_alias(alias.upper(), lab_user.email)
    assert lab.gateway.alias(alias) == lab_user.email
    try:
        _route_to(lab, lab_user.domain, "source")
        _send(lab, alias, "to sales before cutover")
        assert until(lambda: inbox_subjects(*src) == ["to sales before cutover"])

        _route_to(lab, lab_user.domain, "destination")
        _send(lab, alias, "to sales after cutover")
        assert until(lambda: inbox_subjects(*dst) == ["to sales after cutover"])
        assert inbox_subjects(*src) == ["to sales before cutover"]
        for server in (lab.source, lab.destination):
            assert alias not in server.accounts()
            assert not server.maildir(alias).exists()
    finally:
        lab.gateway.remove_alias(alias)


def test_removed_alias_bounces_while_the_account_still_gets_mail(
    lab: Lab, lab_user: LabUser
) -> None:
    """After remove_alias the gateway accepts mail for the old alias, the mailbox server has
    no such user, and the sender gets a bounce; mail to the account itself still arrives."""
    alias = f"info@{lab_user.domain}"
    dst = (lab.ports.destination_imap, lab_user.email, lab_user.destination_password)
    _route_to(lab, lab_user.domain, "destination")
    lab.gateway.set_alias(alias, lab_user.email)
    _send(lab, alias, "while aliased")
    assert until(lambda: inbox_subjects(*dst) == ["while aliased"])

    lab.gateway.remove_alias(alias)
    lab.gateway.remove_alias(alias)  # idempotent
    assert alias not in lab.gateway.aliases()
    # The account is the sender, so the bounce comes back to its own inbox.
    send(lab.ports.gateway_smtp, alias, "after remove", sender=lab_user.email)
    _send(lab, lab_user.email, "direct")
    assert until(lambda: inbox_subjects(*dst) == sorted([BOUNCE, "direct", "while aliased"]))
    assert until(lambda: lab.gateway.queued(lab_user.domain) == 0)
    assert "after remove" not in inbox_subjects(*dst)


def test_an_alias_with_a_hash_inside_delivers(lab: Lab, lab_user: LabUser) -> None:
    """Only a leading "#" is refused (it would make a comment line of the map): an alias like
    ``team#1@`` is one the control panel accepts too, so the gateway must deliver it."""
    alias = f"team#1@{lab_user.domain}"
    dst = (lab.ports.destination_imap, lab_user.email, lab_user.destination_password)
    _route_to(lab, lab_user.domain, "destination")
    lab.gateway.set_alias(alias, lab_user.email)
    try:
        assert lab.gateway.alias(alias) == lab_user.email
        _send(lab, alias, "to team#1")
        assert until(lambda: inbox_subjects(*dst) == ["to team#1"])
    finally:
        lab.gateway.remove_alias(alias)
    assert alias not in lab.gateway.aliases()


def test_alias_of_an_unrouted_domain_is_refused(lab: Lab, lab_user: LabUser) -> None:
    """No open relay through an alias: a domain without a route is refused at RCPT even
    when one of its addresses is an alias of a routed account."""
    _route_to(lab, lab_user.domain, "destination")
    alias = f"sales@{unique_domain()}"
    lab.gateway.set_alias(alias, lab_user.email)
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            _send(lab, alias, "nowhere")
    finally:
        lab.gateway.remove_alias(alias)


@pytest.mark.parametrize(
    ("alias", "target", "message"),
    [
        ("sales", "ann@acme.test", "not an email address"),
        ("sales@acme", "ann@acme.test", "not an email address"),
        ("sales@acme.test", "ann at acme.test", "not an email address"),
        ("#sales@acme.test", "ann@acme.test", "not an email address"),
        ("Ann@acme.test", "ann@acme.test", "points to itself"),
    ],
)
def test_bad_alias_is_a_caller_error(lab: Lab, alias: str, target: str, message: str) -> None:
    """An alias and its target must be addresses; a bad one is refused before any change."""
    before = lab.gateway.aliases()
    with pytest.raises(ValueError, match=message):
        lab.gateway.set_alias(alias, target)
    assert lab.gateway.aliases() == before
