"""The lab control panel drives the real lab: gateway routes, holds and aliases, destination
logins."""

from __future__ import annotations

import imaplib
import secrets
import smtplib
from email.message import EmailMessage

import httpx
from support.delivery import inbox_subjects, send
from support.panel import Endpoint, panel
from support.panel_customer import new_customer_domain
from support.poll import until

from lab import Lab, LabUsers
from onboarding.controlpanel import (
    ControlPanelClient,
    NewEmailAccount,
    NewMailServer,
)

__all__ = ["panel"]  # fixtures used by name

BOUNCE = "Undelivered Mail Returned to Sender"  # Postfix's non-delivery notice


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
        domain = new_customer_domain(
            cp, f"Lab E2E {secrets.token_hex(3)}", user.domain, deliveryport=lab.ports.source_lmtp
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
        assert until(
            lambda: any(
                m.queue_name == "hold" for m in lab.gateway.queue() if m.for_domain(user.domain)
            )
        )
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


def test_alias_made_through_the_api_reaches_the_account_until_deleted(
    lab: Lab, panel: Endpoint, lab_users: LabUsers
) -> None:
    """POST /api/v1/localpart_alias/ {email_account, localpart} (what provisioning sends):
    mail to the alias lands in the account's hosted mailbox. DELETE: the sender gets a
    bounce. Deleting the account takes its aliases off the gateway too."""
    name = lab_users.domain
    account, alias = f"ann@{name}", f"sales@{name}"
    password = f"Pw-{secrets.token_hex(6)}"
    inbox = (lab.ports.destination_imap, account, password)
    auth = {"Authorization": f"ApiKey {panel.api_key}"}
    with (
        ControlPanelClient(panel.url, panel.api_key) as cp,
        httpx.Client(base_url=panel.url, headers=auth, timeout=10) as http,
    ):
        domain = new_customer_domain(
            cp, f"Lab alias {secrets.token_hex(3)}", name, deliveryport=lab.ports.destination_lmtp
        )
        cp.mail_servers.create(NewMailServer(domain=domain.resource_uri, server="127.0.0.1"))
        ann = cp.email_accounts.create(
            NewEmailAccount(domain=domain.resource_uri, localpart="ann", password=password)
        )

        created = http.post(
            "/api/v1/localpart_alias/",
            json={"email_account": ann.resource_uri, "localpart": "sales"},
        )
        assert created.status_code == 201, created.text
        assert created.json()["domain"] == domain.resource_uri
        assert lab.gateway.alias(alias) == account
        assert http.get(ann.resource_uri).json()["aliases"] == "sales"
        send(lab.ports.gateway_smtp, alias, "to sales")
        assert until(lambda: inbox_subjects(*inbox) == ["to sales"])
        assert lab.destination.account(alias) is None

        assert http.delete(created.json()["resource_uri"]).status_code == 204
        assert lab.gateway.alias(alias) is None
        send(lab.ports.gateway_smtp, alias, "after delete", sender=account)
        assert until(lambda: inbox_subjects(*inbox) == sorted([BOUNCE, "to sales"]))

        again = http.post(
            "/api/v1/localpart_alias/",
            json={"email_account": ann.resource_uri, "localpart": "info"},
        )
        assert again.status_code == 201, again.text
        assert lab.gateway.alias(f"info@{name}") == account
        cp.email_accounts.delete(ann.id)
        assert lab.gateway.alias(f"info@{name}") is None
        cp.domains.delete(domain.id)
    assert lab.gateway.route(name) is None
