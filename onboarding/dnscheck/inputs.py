"""What the DNS engine is told about a customer: plain frozen values, never the spec model.

The task layer builds one :class:`DNSInputs` from ``customer.yaml`` (ARCHITECTURE.md, "The
glue"), so the engine can be tested and benchmarked from literals. Each entry point takes the
whole :class:`DNSInputs`; the pure helpers take only the parts they read, as keyword-only
options named like the fields here (``hosted=``, ``options=``, ``servers=``, ``ttl_multiple=``).

No defaults: the spec owns them, and a second copy here would drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from onboarding.clientconfig import ClientHosts
from onboarding.dnscheck.mx import MXHost
from onboarding.dnscheck.query import Server

__all__ = ["DNSInputs", "DNSServers", "DomainInput", "HostedRecords", "RecordOptions"]


@dataclass(frozen=True)
class DomainInput:
    """One customer domain and the hosts that receive its mail today.

    ``old_mail_hosts`` tells the SPF check which includes belong to the old provider.
    """

    name: str
    old_mail_hosts: tuple[str, ...]


@dataclass(frozen=True)
class HostedRecords:
    """What our records point at: MX hosts, SPF include and outbound IPs, client hosts.

    ``mx_hosts`` are (priority, host) pairs as configured, e.g. ``((10, "mail.mailroute.net"),)``;
    a trailing dot on a host is allowed.
    """

    mx_hosts: tuple[MXHost, ...]
    spf_include: str
    outbound_ips: tuple[str, ...]
    clients: ClientHosts


@dataclass(frozen=True)
class RecordOptions:
    """How our DKIM and DMARC records look, and the old provider's SPF includes we know of."""

    dkim_selector: str
    dmarc_policy: Literal["none", "quarantine", "reject"]
    dmarc_rua: str | None
    old_spf_includes: tuple[str, ...]


@dataclass(frozen=True)
class DNSServers:
    """Where the engine asks, and how long it waits for each answer (seconds).

    Empty ``nameservers`` means: find the domain's authoritative servers from its NS records
    via ``resolvers``. Empty ``resolvers`` means the plan cannot count SPF lookups and the
    checks cannot run (they raise ValueError).
    """

    resolvers: tuple[Server, ...]
    nameservers: tuple[Server, ...]
    timeout: float


@dataclass(frozen=True)
class DNSInputs:
    """Everything ``dns-plan`` and ``dns-check`` read about one customer.

    ``ttl_multiple``: the cutover waits this many MX TTLs after the change (e.g. ``2.0``).
    """

    customer: str
    customer_slug: str
    domains: tuple[DomainInput, ...]
    hosted: HostedRecords
    options: RecordOptions
    servers: DNSServers
    ttl_multiple: float
