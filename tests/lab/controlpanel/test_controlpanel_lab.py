"""The lab control panel drives the real lab: gateway routes and holds, destination logins."""

from __future__ import annotations

import imaplib
import secrets
import smtplib
from email.message import EmailMessage

from support.panel import Endpoint, panel
from support.poll import until

from lab import Lab, LabUsers
from onboarding.controlpanel import (
    ControlPanelClient,
    NewCustomer,
    NewDomain,
    NewEmailAccount,
    NewMailServer,
)

__all__ = ["panel"]  # fixtures used by name


def _inbox_count(lab: Lab, email: str, password: str) -> int:
    conn = imaplib.IMAP4("127.0.0.1", lab.ports.source_imap, timeout=10)
    try:
        conn.login(email, password)
        _, data = conn.select("INBOX", readonly=True)
        return int(data[0] or 0)
    finally:
        conn.logout()


def test_routing_hold_and_logins_reach_the_lab(
    lab: Lab, panel: Endpoint, lab_users: LabUsers
) -> None:
    """mail_server → gateway route (mail reaches the old server); hold_email holds it; an
    account logs in to the hosted IMAP at once."""
    user = lab_users.new(destination=False)
    with ControlPanelClient(panel.url, panel.api_key) as cp:
        reseller = cp.resellers.find(name="Lab Reseller")
        assert reseller is not None
        customer = cp.customers.create(
            NewCustomer(name=f"Lab E2E {secrets.token_hex(3)}", reseller=reseller.resource_uri)
        )
        domain = cp.domains.create(
            NewDomain(
                name=user.domain, customer=customer.resource_uri, deliveryport=lab.ports.source_lmtp
            )
        )
        cp.mail_servers.create(
            NewMailServer(domain=domain.resource_uri, server="127.0.0.1", priority=10)
        )
        assert lab.gateway.route(user.domain) == f"lmtp:inet:127.0.0.1:{lab.ports.source_lmtp}"

        cp.set_hold(domain.id, True)
        assert lab.gateway.is_held(user.domain)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "sender@example.test", user.email, "routed"
        msg.set_content("hello through the gateway")
        with smtplib.SMTP("127.0.0.1", lab.ports.gateway_smtp, timeout=10) as smtp:
            smtp.send_message(msg)
        assert until(lambda: any(m.queue_name == "hold" for m in lab.gateway.queue()))
        assert _inbox_count(lab, user.email, user.source_password) == 0

        cp.set_hold(domain.id, False)
        assert not lab.gateway.is_held(user.domain)
        assert until(lambda: _inbox_count(lab, user.email, user.source_password) == 1)

        password = f"Pw-{secrets.token_hex(6)}"
        local = user.email.split("@")[0]
        cp.email_accounts.create(
            NewEmailAccount(domain=domain.resource_uri, localpart=local, password=password)
        )
        conn = imaplib.IMAP4("127.0.0.1", lab.ports.destination_imap, timeout=10)
        try:
            conn.login(user.email, password)
        finally:
            conn.logout()
        cp.domains.delete(domain.id)
    assert lab.gateway.route(user.domain) is None
    assert lab.destination.account(user.email) is None
