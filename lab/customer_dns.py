"""The customer's DNS as the lab plays it: zones before onboarding, and the customer publishing.

Real customers publish at their DNS host; in the lab the customer's zones live in the lab's
NSD. ``publish_initial`` gives a spec's domains the DNS they have before onboarding (MX at
the old provider) and our provider zone (``mail.`` / ``spf.`` hosts named in
``spec.hosted``; the autoconfig/autodiscover hosts at 127.0.0.1, where the lab serves them);
``publish_records`` plays the customer applying what ``dns-plan`` asked for.
Small TTLs keep the cutover's 2×TTL wait in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lab._dns import DnsServers
from lab._ports import HOST
from onboarding.dnscheck.zonefile import txt_rdata
from validation.spec import OnboardingSpec

__all__ = [
    "DEMO_TTL",
    "Record",
    "planned_records",
    "publish_initial",
    "publish_records",
    "zone_text",
]

DEMO_TTL = 2


@dataclass(frozen=True)
class Record:
    """One resource record to publish: ``name`` is absolute, ``value`` is the rdata text."""

    name: str
    type: str
    value: str


def zone_text(origin: str, body: str, *, ttl: int = DEMO_TTL) -> str:
    """Return a complete zone for ``origin`` (SOA, NS, and ``body``); negative TTL = ``ttl``."""
    serial = int(time.time())
    return (
        f"$ORIGIN {origin}.\n$TTL {ttl}\n"
        f"@ IN SOA ns1.{origin}. hostmaster.{origin}. {serial} 3600 600 86400 {ttl}\n"
        f"@ IN NS ns1.{origin}.\nns1 IN A 127.0.0.1\n{body}\n"
    )


def _provider_zone(spec: OnboardingSpec) -> str:
    """The zone of our MX host and SPF include (``mail.mailroute.test`` → ``mailroute.test``)."""
    return spec.hosted.mx_hosts[0].host.split(".", 1)[1]


def publish_initial(dns: DnsServers, spec: OnboardingSpec, *, ttl: int = DEMO_TTL) -> list[str]:
    """Create the provider zone and each customer zone that does not exist yet; return origins.

    An existing customer zone is left alone, so re-running the demo after a cutover does not
    put the old MX back.
    """
    created: list[str] = []
    provider = _provider_zone(spec)
    ip = spec.hosted.outbound_ips[0] if spec.hosted.outbound_ips else "192.0.2.25"
    spf_ips = " ".join(f"ip4:{a}" for a in spec.hosted.outbound_ips) or f"ip4:{ip}"
    hosts = {h.host for h in spec.hosted.mx_hosts} | {
        spec.hosted.client_imap_host,
        spec.hosted.client_submission_host,
    }
    # The lab's client-configuration host listens on 127.0.0.1: clients must get there.
    lab_hosts = {spec.hosted.autoconfig_host, spec.hosted.autodiscover_host}
    body = [f'spf IN TXT "v=spf1 {spf_ips} -all"', f'old-spf IN TXT "v=spf1 ip4:{ip} -all"']
    body += [f"{h}. IN A {ip}" for h in sorted(hosts - lab_hosts) if h.endswith(f".{provider}")]
    body += [f"{h}. IN A {HOST}" for h in sorted(lab_hosts) if h.endswith(f".{provider}")]
    body.append(f"mx1.old IN A {ip}")
    dns.set_zone(provider, zone_text(provider, "\n".join(body), ttl=ttl))
    created.append(provider)
    existing = set(dns.zones())
    for domain in spec.domain_names:
        if domain in existing:
            continue
        records = (
            f'@ IN MX 10 mx1.old.{provider}.\n@ IN TXT "v=spf1 include:old-spf.{provider} ~all"\n'
        )
        dns.set_zone(domain, zone_text(domain, records, ttl=ttl))
        created.append(domain)
    return created


def planned_records(plan: Mapping[str, Any]) -> dict[str, list[Record]]:
    """Return, per domain, the records a ``dns-plan`` result asks the customer to add or keep.

    ``plan`` is the flow's result / ``dns-plan.json``:
    ``{"domains": [{"domain": "acme.test", "changes": [{"action": "add", "name": ...}]}]}``.
    """
    return {
        domain["domain"]: [
            Record(change["name"], change["type"], change["value"])
            for change in domain["changes"]
            if change["action"] in ("add", "keep")
        ]
        for domain in plan["domains"]
    }


def publish_records(
    dns: DnsServers, domain: str, records: Iterable[Record], *, ttl: int = DEMO_TTL
) -> None:
    """Replace ``domain``'s zone with ``records`` (what the customer ends up publishing)."""
    lines = [
        f"{r.name.rstrip('.')}. {ttl} IN {r.type} "
        + (txt_rdata(r.value) if r.type == "TXT" else r.value)
        for r in records
    ]
    dns.set_zone(domain, zone_text(domain, "\n".join(lines), ttl=ttl))
