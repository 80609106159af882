"""A lab customer whose domain and our provider zone live in the lab DNS (DNS flow tests)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lab import Lab
from lab.customer_dns import zone_text
from onboarding.clientconfig import ClientHosts
from onboarding.dnscheck import HostedRecords

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
class Customer:
    """A customer spec on disk whose one domain and our provider zone live in the lab DNS."""

    spec: Path
    domain: str
    ours: str
    slug: str
    output_dir: Path


def make_customer(tmp_path: Path, lab: Lab, **dns: Any) -> Customer:
    token = secrets.token_hex(3)
    domain, ours, slug = f"c{token}.test", f"mr{token}.test", f"lab-customer-{token}"
    lab.dns.set_zone(
        ours,
        zone_text(
            ours,
            f'spf IN TXT "v=spf1 ip4:{OUR_IP} -all"\nmail IN A {OUR_IP}\n'
            f'old IN TXT "v=spf1 ip4:198.51.100.0/24 -all"',
            ttl=TTL,
        ),
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
    auth, resolver = lab.dns.auth_address, lab.dns.resolver_address
    data = {
        "customer": "Lab Customer",
        "slug": slug,
        "reseller": "Lab Reseller",
        "users_csv": "users.csv",
        "domains": [{"name": domain, "mail_servers": [{"host": f"mx1.old.{ours}"}]}],
        "hosted": hosted(ours),
        "dns": {
            "nameservers": [f"{auth[0]}:{auth[1]}"],
            "resolvers": [f"{resolver[0]}:{resolver[1]}"],
            "dmarc_rua": f"mailto:dmarc@{domain}",
            "timeout_seconds": 2,
        }
        | dns,
        "output_dir": str(tmp_path / "runs"),
    }
    spec = tmp_path / "customer.yaml"
    spec.write_text(yaml.safe_dump(data), encoding="utf-8")
    return Customer(spec, domain, ours, slug, tmp_path / "runs")
