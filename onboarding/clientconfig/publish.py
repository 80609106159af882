"""The files MailRoute's autoconfig and autodiscover hosts serve for a customer's domains.

The customer's ``autoconfig.<domain>`` and ``autodiscover.<domain>`` are CNAMEs to our hosts
(:mod:`onboarding.clientconfig.records`), so a client's request reaches us with the customer's
name in its ``Host`` header; our hosts pick the file by that name:

- ``autoconfig.<domain>/mail/config-v1.1.xml``: Mozilla autoconfig, served as is to
  ``GET /mail/config-v1.1.xml?emailaddress=…`` (Thunderbird).
- ``autodiscover.<domain>/autodiscover/autodiscover.xml``: the Autodiscover POX response for
  ``POST /autodiscover/autodiscover.xml`` (Outlook) with ``%EMAILADDRESS%`` where the login
  goes; the host puts the request's ``EMailAddress`` there (XML-escaped), as Mozilla's files
  do with the same placeholder.
"""

from __future__ import annotations

from collections.abc import Sequence

from onboarding.clientconfig.files import render_autoconfig, render_autodiscover
from onboarding.clientconfig.records import ClientHosts

__all__ = [
    "AUTOCONFIG_PATH",
    "AUTODISCOVER_PATH",
    "EMAIL_PLACEHOLDER",
    "autoconfig_site",
    "autodiscover_site",
    "site_files",
]

AUTOCONFIG_PATH = "/mail/config-v1.1.xml"
AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
EMAIL_PLACEHOLDER = "%EMAILADDRESS%"


def autoconfig_site(domain: str) -> str:
    """The name Thunderbird asks first for ``domain``: ``autoconfig.<domain>``."""
    return f"autoconfig.{domain}"


def autodiscover_site(domain: str) -> str:
    """The name Outlook asks for ``domain`` after the domain itself: ``autodiscover.<domain>``."""
    return f"autodiscover.{domain}"


def site_files(domains: Sequence[str], hosts: ClientHosts, *, display_name: str) -> dict[str, str]:
    """``{"<site>/<path>": text}`` for every domain, ready to copy to our hosts' document root.

    ``site_files(["acme.test"], hosts, display_name="Acme")`` has the keys
    ``autoconfig.acme.test/mail/config-v1.1.xml`` and
    ``autodiscover.acme.test/autodiscover/autodiscover.xml``.
    """
    files: dict[str, str] = {}
    for domain in domains:
        files[autoconfig_site(domain) + AUTOCONFIG_PATH] = render_autoconfig(
            domain, hosts, display_name=display_name
        )
        files[autodiscover_site(domain) + AUTODISCOVER_PATH] = render_autodiscover(
            EMAIL_PLACEHOLDER, hosts
        )
    return files
