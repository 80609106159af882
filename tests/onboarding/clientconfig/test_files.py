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
