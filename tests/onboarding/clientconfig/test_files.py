"""Autoconfig, Autodiscover and mobileconfig files: parse back, right servers, no password."""

from __future__ import annotations

import plistlib
import xml.etree.ElementTree as ET

from onboarding.clientconfig import (
    ClientHosts,
    render_autoconfig,
    render_autodiscover,
    render_mobileconfig,
)

HOSTS = ClientHosts("imap.mailroute.test.", "smtp.mailroute.test", "ac.x", "ad.x")
OUTLOOK = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"


def test_autoconfig_lists_imaps_then_submissions_then_starttls() -> None:
    """The autoconfig XML offers IMAP on 993/SSL with the address as username, then SMTP on 465/SSL
    before 587/STARTTLS; the display name is escaped and parses back."""
    xml = render_autoconfig("acme.test", HOSTS, display_name="Acme & Sons <Mail>")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">')
    root = ET.fromstring(xml)
    provider = root.find("emailProvider")
    assert provider is not None and provider.get("id") == "acme.test"
    assert provider.findtext("displayName") == "Acme & Sons <Mail>"  # escaped, parses back
    imap = provider.find("incomingServer[@type='imap']")
    assert imap is not None
    assert [imap.findtext(t) for t in ("hostname", "port", "socketType", "username")] == [
        "imap.mailroute.test", "993", "SSL", "%EMAILADDRESS%"
    ]  # fmt: skip
    smtp = [
        (s.findtext("port"), s.findtext("socketType"))
        for s in provider.findall("outgoingServer[@type='smtp']")
    ]
    assert smtp == [("465", "SSL"), ("587", "STARTTLS")]


def test_autodiscover_response_for_one_address() -> None:
    """The autodiscover response for one address offers IMAP 993 and SMTP 465 with SSL on and that
    address as login name."""
    root = ET.fromstring(render_autodiscover("ann@acme.test", HOSTS))
    protocols = root.findall(f"{OUTLOOK}Response/{OUTLOOK}Account/{OUTLOOK}Protocol")
    got = [
        tuple(p.findtext(f"{OUTLOOK}{t}") for t in ("Type", "Server", "Port", "LoginName", "SSL"))
        for p in protocols
    ]
    assert got == [
        ("IMAP", "imap.mailroute.test", "993", "ann@acme.test", "on"),
        ("SMTP", "smtp.mailroute.test", "465", "ann@acme.test", "on"),
    ]


def test_mobileconfig_is_deterministic_and_holds_no_password() -> None:
    """The same address gives the same profile bytes (another address another UUID); it names the
    IMAP/SMTP hosts and ports with SSL and holds no password field."""
    data = render_mobileconfig("Ann@acme.test", HOSTS, organization="Acme")
    assert data == render_mobileconfig("Ann@acme.test", HOSTS, organization="Acme")
    profile = plistlib.loads(data)
    (account,) = profile["PayloadContent"]
    assert account["IncomingMailServerHostName"] == "imap.mailroute.test"
    assert account["IncomingMailServerPortNumber"] == 993
    assert account["OutgoingMailServerPortNumber"] == 465 and account["OutgoingMailServerUseSSL"]
    assert account["PayloadIdentifier"].startswith("test.acme.mail.")
    assert not any(
        "Password" in k and k != "OutgoingPasswordSameAsIncomingPassword" for k in account
    )
    other = plistlib.loads(render_mobileconfig("bob@acme.test", HOSTS, organization="Acme"))
    assert other["PayloadUUID"] != profile["PayloadUUID"]
