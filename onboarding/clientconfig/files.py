"""Client configuration files served behind the autoconfig/autodiscover names, and Apple's
profile: what a mail client downloads to set itself up for a hosted mailbox.

- Mozilla autoconfig (Thunderbird and others): ``clientConfig version="1.1"`` served at
  ``https://autoconfig.<domain>/mail/config-v1.1.xml``.
- Microsoft Autodiscover POX (Outlook): the response to a request for one address.
- Apple ``.mobileconfig`` (iOS/macOS Mail): an ``com.apple.mail.managed`` payload.

Implicit TLS first (RFC 8314): IMAP 993 and submission 465, submission 587 with STARTTLS as
the fallback. No file contains a password: the user types it (and Apple's profile asks for it).
Every file is deterministic for the same inputs (the profile's UUIDs are derived from the
address), so re-generating it changes nothing.
"""

from __future__ import annotations

import plistlib
import uuid
import xml.etree.ElementTree as ET

from onboarding.clientconfig.records import ClientHosts

__all__ = ["render_autoconfig", "render_autodiscover", "render_mobileconfig"]

IMAPS_PORT = 993
SUBMISSIONS_PORT = 465
SUBMISSION_PORT = 587

_AD_RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
_AD_OUTLOOK = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
_NS = uuid.UUID("6f1d6a4e-3c1b-4d0e-9a55-6d61696c726f")  # namespace for profile UUIDs


def _sub(parent: ET.Element, tag: str, text: str | int | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = str(text)
    return el


def _xml(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_autoconfig(domain: str, hosts: ClientHosts, *, display_name: str) -> str:
    """Return the Mozilla autoconfig XML (``config-v1.1.xml``) for ``domain``."""
    root = ET.Element("clientConfig", version="1.1")
    provider = _sub(root, "emailProvider", id=domain)
    _sub(provider, "domain", domain)
    _sub(provider, "displayName", display_name)
    _sub(provider, "displayShortName", display_name[:40])
    imap = _sub(provider, "incomingServer", type="imap")
    for tag, value in (
        ("hostname", hosts.imap_host.rstrip(".")),
        ("port", IMAPS_PORT),
        ("socketType", "SSL"),
        ("username", "%EMAILADDRESS%"),
        ("authentication", "password-cleartext"),
    ):
        _sub(imap, tag, value)
    for port, socket_type in ((SUBMISSIONS_PORT, "SSL"), (SUBMISSION_PORT, "STARTTLS")):
        smtp = _sub(provider, "outgoingServer", type="smtp")
        for tag, value in (
            ("hostname", hosts.submission_host.rstrip(".")),
            ("port", port),
            ("socketType", socket_type),
            ("username", "%EMAILADDRESS%"),
            ("authentication", "password-cleartext"),
        ):
            _sub(smtp, tag, value)
    return _xml(root)


def render_autodiscover(email: str, hosts: ClientHosts) -> str:
    """Return the Autodiscover POX response (Outlook) for ``email``."""
    ET.register_namespace("", _AD_RESPONSE)
    root = ET.Element(f"{{{_AD_RESPONSE}}}Autodiscover")
    response = _sub(root, f"{{{_AD_OUTLOOK}}}Response")
    account = _sub(response, f"{{{_AD_OUTLOOK}}}Account")
    _sub(account, f"{{{_AD_OUTLOOK}}}AccountType", "email")
    _sub(account, f"{{{_AD_OUTLOOK}}}Action", "settings")
    for kind, host, port in (
        ("IMAP", hosts.imap_host, IMAPS_PORT),
        ("SMTP", hosts.submission_host, SUBMISSIONS_PORT),
    ):
        proto = _sub(account, f"{{{_AD_OUTLOOK}}}Protocol")
        for tag, value in (
            ("Type", kind),
            ("Server", host.rstrip(".")),
            ("Port", port),
            ("LoginName", email),
            ("DomainRequired", "off"),
            ("SPA", "off"),
            ("SSL", "on"),
            ("AuthRequired", "on"),
        ):
            _sub(proto, f"{{{_AD_OUTLOOK}}}{tag}", value)
    return _xml(root)


def render_mobileconfig(email: str, hosts: ClientHosts, *, organization: str) -> bytes:
    """Return an Apple configuration profile (XML plist) with one IMAP account, no password."""
    account_uuid = str(uuid.uuid5(_NS, f"account:{email.lower()}")).upper()
    profile_uuid = str(uuid.uuid5(_NS, f"profile:{email.lower()}")).upper()
    reverse = ".".join(reversed(email.split("@", 1)[1].lower().split(".")))
    account = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{reverse}.mail.{account_uuid}",
        "PayloadUUID": account_uuid,
        "PayloadDisplayName": f"Mail ({email})",
        "EmailAccountDescription": f"{organization} mail",
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAddress": email,
        "IncomingMailServerHostName": hosts.imap_host.rstrip("."),
        "IncomingMailServerPortNumber": IMAPS_PORT,
        "IncomingMailServerUseSSL": True,
        "IncomingMailServerAuthentication": "EmailAuthPassword",
        "IncomingMailServerUsername": email,
        "OutgoingMailServerHostName": hosts.submission_host.rstrip("."),
        "OutgoingMailServerPortNumber": SUBMISSIONS_PORT,
        "OutgoingMailServerUseSSL": True,
        "OutgoingMailServerAuthentication": "EmailAuthPassword",
        "OutgoingMailServerUsername": email,
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    profile = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{reverse}.mailprofile.{profile_uuid}",
        "PayloadUUID": profile_uuid,
        "PayloadDisplayName": f"{organization} mail",
        "PayloadOrganization": organization,
        "PayloadContent": [account],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)
