"""A lab customer whose domain and our provider zone live in the lab DNS (DNS flow tests)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab import Lab
from lab.customer_dns import zone_text
from onboarding.clientconfig import ClientHosts
from onboarding.dnscheck import HostedRecords
from support.customer_files import SpecFiles, write_customer_files

OUR_IP = "192.0.2.25"
TTL = 300


def hosted(ours: str) -> dict[str, Any]:
    """The spec's ``hosted`` block for our provider zone ``ours`` (MX, SPF include, hosts)."""
    return {
        "mx_hosts": [{"host": f"mail.{ours}", "priority": 10}],
        "spf_include": f"spf.{ours}",
        "outbound_ips": [OUR_IP],
        "client_imap_host": f"imap.{ours}",
        "client_submission_host": f"smtp.{ours}",
        "autoconfig_host": f"autoconfig.{ours}",
        "autodiscover_host": f"autodiscover.{ours}",
    }


def hosted_records(ours: str) -> HostedRecords:
    """The DNS engine's view of :func:`hosted`, for engine tests that take no spec."""
    return HostedRecords(
        mx_hosts=((10, f"mail.{ours}"),),
        spf_include=f"spf.{ours}",
        outbound_ips=(OUR_IP,),
        clients=ClientHosts(
            f"imap.{ours}", f"smtp.{ours}", f"autoconfig.{ours}", f"autodiscover.{ours}"
        ),
    )


@dataclass(frozen=True)
class Customer(SpecFiles):
    """A customer spec on disk whose one domain and our provider zone live in the lab DNS."""

    domain: str
    ours: str


def lab_dns(lab: Lab) -> dict[str, Any]:
    """The spec's ``dns`` block asking the lab's authoritative server and resolver (2 s)."""
    auth, resolver = lab.dns.auth_address, lab.dns.resolver_address
    return {
        "nameservers": [f"{auth[0]}:{auth[1]}"],
        "resolvers": [f"{resolver[0]}:{resolver[1]}"],
        "timeout_seconds": 2,
    }


def publish_provider_zone(lab: Lab, ours: str, *, ttl: int, extra: str = "") -> None:
    """Publish our provider zone ``ours`` in the lab DNS: the SPF include and the MX host."""
    records = f'spf IN TXT "v=spf1 ip4:{OUR_IP} -all"\nmail IN A {OUR_IP}' + extra
    lab.dns.set_zone(ours, zone_text(ours, records, ttl=ttl))


def make_customer(tmp_path: Path, lab: Lab, **dns: Any) -> Customer:
    token = secrets.token_hex(3)
    domain, ours, slug = f"c{token}.test", f"mr{token}.test", f"lab-customer-{token}"
    publish_provider_zone(
        lab, ours, ttl=TTL, extra='\nold IN TXT "v=spf1 ip4:198.51.100.0/24 -all"'
    )
    lab.dns.set_zone(
        domain,
        zone_text(
            domain,
            f'@ 1800 IN MX 10 mx1.old.{ours}.\n@ IN TXT "v=spf1 include:old.{ours} ~all"\n'
            '_dmarc IN TXT "v=DMARC1; p=quarantine"',
            ttl=TTL,
        ),
    )
    data = {
        "customer": "Lab Customer",
        "slug": slug,
        "reseller": "Lab Reseller",
        "users_csv": "users.csv",
        "domains": [{"name": domain, "mail_servers": [{"host": f"mx1.old.{ours}"}]}],
        "hosted": hosted(ours),
        "dns": lab_dns(lab) | {"dmarc_rua": f"mailto:dmarc@{domain}"} | dns,
        "output_dir": str(tmp_path / "runs"),
    }
    spec = write_customer_files(tmp_path, data)
    return Customer(spec, slug, tmp_path / "runs", domain, ours)
