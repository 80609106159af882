"""Thunderbird- and Outlook-style lookups through the lab resolver and client-configuration
host: the published files point at our servers; a wrong, missing or misdirected one is
reported with its fix."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from lab import Lab
from lab.customer_dns import zone_text
from onboarding.clientconfig import (
    ClientHosts,
    ClientLookup,
    check_autoconfig,
    check_autodiscover,
    render_autoconfig,
    site_files,
)
from onboarding.clientconfig.lookup import parse_autoconfig, parse_autodiscover
from onboarding.dnscheck.query import Server


@dataclass(frozen=True)
class Published:
    domain: str
    hosts: ClientHosts
    lookup: ClientLookup


@pytest.fixture
def published(lab: Lab) -> Published:
    """A customer domain whose CNAMEs point at our (lab) hosts, with the files published."""
    tag = secrets.token_hex(3)
    domain, ours = f"ac{tag}.test", f"mr{tag}.test"
    hosts = ClientHosts(
        f"imap.{ours}", f"smtp.{ours}", f"autoconfig.{ours}", f"autodiscover.{ours}"
    )
    lab.dns.set_zone(
        ours, zone_text(ours, "autoconfig IN A 127.0.0.1\nautodiscover IN A 127.0.0.1")
    )
    lab.dns.set_zone(
        domain,
        zone_text(
            domain,
            f"autoconfig IN CNAME autoconfig.{ours}.\nautodiscover IN CNAME autodiscover.{ours}.",
        ),
    )
    lab.clientconfig.publish(dict(site_files([domain], hosts, display_name="Acme")))
    host, port = lab.dns.resolver_address
    lookup = ClientLookup((Server(host, port),), scheme="http", port=lab.ports.clientconfig)
    return Published(domain, hosts, lookup)


def test_thunderbird_and_outlook_lookups_find_our_servers(published: Published) -> None:
    """Both lookups resolve the customer's name through the resolver to our host and get
    settings naming our IMAP (993 SSL) and submission (465 SSL) hosts."""
    p = published
    email = f"ann@{p.domain}"
    tb = check_autoconfig(p.domain, email, p.hosts, p.lookup)
    assert tb.valid, tb
    assert tb.resolved == (f"autoconfig.{p.domain}", p.hosts.autoconfig_host, "127.0.0.1")
    assert (tb.imap, tb.smtp) == (
        f"{p.hosts.imap_host}:993 SSL",
        f"{p.hosts.submission_host}:465 SSL",
    )
    ol = check_autodiscover(p.domain, email, p.hosts, p.lookup)
    assert ol.valid, ol
    assert ol.resolved[1] == p.hosts.autodiscover_host
    assert (ol.imap, ol.smtp) == (tb.imap, tb.smtp)


def test_a_wrong_file_is_named_with_the_fix(lab: Lab, published: Published) -> None:
    """A file that sends IMAP to the old provider fails with both hosts named and the fix."""
    p = published
    old = ClientHosts("imap.old.test", p.hosts.submission_host, "x", "y")
    lab.clientconfig.publish(
        {
            f"autoconfig.{p.domain}/mail/config-v1.1.xml": render_autoconfig(
                p.domain, old, display_name="x"
            )
        }
    )
    result = check_autoconfig(p.domain, f"ann@{p.domain}", p.hosts, p.lookup)
    assert not result.valid
    assert result.error is not None and "imap.old.test:993" in result.error
    assert p.hosts.imap_host in result.error
    assert result.fix is not None and "onboard client-guides" in result.fix


def test_missing_file_and_foreign_cname_are_reported(lab: Lab, published: Published) -> None:
    """An unpublished site is a 404 with the file to publish; a CNAME to someone else's host
    names that host and the record to publish instead."""
    p = published
    other = f"nf{secrets.token_hex(3)}.test"
    lab.dns.set_zone(other, zone_text(other, f"autodiscover IN CNAME {p.hosts.autodiscover_host}."))
    missing = check_autodiscover(other, f"ann@{other}", p.hosts, p.lookup)
    assert not missing.valid and missing.error is not None and "HTTP 404" in missing.error
    assert missing.fix is not None and f"publish/autodiscover.{other}" in missing.fix
    old = f"old{secrets.token_hex(3)}.test"
    lab.dns.set_zone(old, zone_text(old, "autoconfig IN A 127.0.0.1"))
    lab.dns.set_zone(other, zone_text(other, f"autoconfig IN CNAME autoconfig.{old}."))
    foreign = check_autoconfig(other, f"ann@{other}", p.hosts, p.lookup)
    assert not foreign.valid and foreign.error is not None
    assert f"points at autoconfig.{old}, not at our host" in foreign.error
    assert foreign.fix is not None and p.hosts.autoconfig_host in foreign.fix


def test_parsers_read_wire_bytes() -> None:
    """The parsers read what clients read: autoconfig's first IMAP/SMTP, POX IMAP/SMTP."""
    imap, smtp = parse_autoconfig(
        b'<clientConfig version="1.1"><emailProvider id="x"><incomingServer type="imap">'
        b"<hostname>imap.x</hostname><port>993</port><socketType>SSL</socketType>"
        b"<username>%EMAILADDRESS%</username></incomingServer><outgoingServer type='smtp'>"
        b"<hostname>smtp.x</hostname><port>587</port><socketType>STARTTLS</socketType>"
        b"<username>%EMAILADDRESS%</username></outgoingServer></emailProvider></clientConfig>"
    )
    assert (str(imap), str(smtp)) == ("imap.x:993 SSL", "smtp.x:587 STARTTLS")
    ns = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
    imap, smtp = parse_autodiscover(
        f'<Autodiscover><Response xmlns="{ns}"><Account><Protocol><Type>IMAP</Type>'
        "<Server>imap.x</Server><Port>993</Port><LoginName>a@x</LoginName><SSL>on</SSL>"
        "</Protocol><Protocol><Type>SMTP</Type><Server>smtp.x</Server><Port>465</Port>"
        "</Protocol></Account></Response></Autodiscover>".encode()
    )
    assert (str(imap), imap.username, str(smtp)) == ("imap.x:993 SSL", "a@x", "smtp.x:465 SSL")
    with pytest.raises(ValueError, match="not XML"):
        parse_autoconfig(b"<html")
