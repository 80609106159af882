"""The DNS plan: per domain, what the customer must remove and add, the MX TTL, and conflicts.

Current DNS is read from the domain's authoritative servers (AA answers, configured TTLs,
reference dns.md §4), never from a cache. The plan keeps what the customer still needs (their
SPF senders, a stricter DMARC policy) and adds ours: MX only to the hosted service, one merged
SPF record with its lookup count, our DKIM key, a DMARC record valid under RFC 7489 and 9989,
and the client-configuration names of :mod:`onboarding.clientconfig`.
Each record kind's part lives in :mod:`._plan_records`; :func:`plan_domain` composes them.

The DKIM private key comes in from the caller (the task layer keeps it in a Secret block) and
stays inside :class:`~onboarding.dnscheck.dkim.DKIMKey`; :meth:`DNSPlan.to_dict` and the
renderers never include it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from onboarding.dnscheck import dkim as dkim_mod
from onboarding.dnscheck import spf as spf_mod
from onboarding.dnscheck import spf_check
from onboarding.dnscheck._plan_records import (
    RecordChange,
    client_section,
    dkim_section,
    dmarc_section,
    mta_sts_section,
    mx_section,
    mx_ttl_section,
    spf_section,
)
from onboarding.dnscheck.current import CurrentDNS, client_names, nameservers_for, read_current
from onboarding.dnscheck.inputs import DNSInputs, HostedRecords, RecordOptions
from onboarding.dnscheck.query import make_resolver
from onboarding.dnscheck.results import Finding, Severity
from onboarding.dnscheck.zonefile import Record

__all__ = [
    "DNSPlan",
    "DomainPlan",
    "RecordChange",
    "build_plan",
    "plan_domain",
]


@dataclass(frozen=True)
class DomainPlan:
    """Everything the customer must do for one domain, and what we noticed."""

    domain: str
    current: CurrentDNS
    changes: tuple[RecordChange, ...]
    spf_record: str
    spf_lookups: int | None
    spf_void_lookups: int | None
    findings: tuple[Finding, ...]
    mx_ttl: int | None
    cutover_wait_seconds: int | None
    earliest_cutover: datetime | None
    dkim: dkim_mod.DKIMKey

    @property
    def to_add(self) -> tuple[Record, ...]:
        return tuple(c.record for c in self.changes if c.action == "add")

    @property
    def to_remove(self) -> tuple[Record, ...]:
        return tuple(c.record for c in self.changes if c.action == "remove")

    @property
    def expected(self) -> tuple[Record, ...]:
        """Every record that must be published once the customer is done."""
        return tuple(c.record for c in self.changes if c.action in ("add", "keep"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary; the DKIM private key is not in it."""
        return {
            "domain": self.domain,
            "mx_ttl": self.mx_ttl,
            "negative_ttl": self.current.negative_ttl,
            "cutover_wait_seconds": self.cutover_wait_seconds,
            "earliest_cutover": self.earliest_cutover.isoformat()
            if self.earliest_cutover
            else None,
            "spf_record": self.spf_record,
            "spf_lookups": self.spf_lookups,
            "spf_void_lookups": self.spf_void_lookups,
            "dkim": {
                "selector": self.dkim.selector,
                "bits": self.dkim.bits,
                "reused": self.dkim.reused,
                "record_name": self.dkim.record_name,
            },
            "changes": [
                {
                    "action": c.action,
                    "name": c.record.name,
                    "type": c.record.rdtype,
                    "ttl": c.record.ttl,
                    "value": c.record.value,
                    "why": c.why,
                }
                for c in self.changes
            ],
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class DNSPlan:
    """The plan for every domain of one customer."""

    customer: str
    customer_slug: str
    generated_at: datetime
    domains: tuple[DomainPlan, ...]

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(
            f
            for d in self.domains
            for f in d.findings
            if f.severity in (Severity.WARN, Severity.FAIL)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "customer_slug": self.customer_slug,
            "generated_at": self.generated_at.isoformat(),
            "domains": [d.to_dict() for d in self.domains],
        }


def plan_domain(
    current: CurrentDNS,
    key: dkim_mod.DKIMKey,
    *,
    hosted: HostedRecords,
    options: RecordOptions,
    ttl_multiple: float,
    spf_count: spf_check.LookupCount | None,
    now: datetime,
) -> DomainPlan:
    """Return the plan for one domain from what is published today. Pure (no DNS).

    Changes come in record order (MX, SPF, DKIM, DMARC, clients); findings in the same order.
    """
    merged = spf_mod.merge_spf(current.spf, hosted.spf_include)
    sections = (
        mx_section(current, hosted),
        spf_section(current, merged, hosted=hosted, options=options, spf_count=spf_count),
        dkim_section(current, key),
        dmarc_section(current, options),
        mta_sts_section(current),
        client_section(current, hosted.clients),
        mx_ttl_section(current),
    )
    wait = int(current.mx_ttl * ttl_multiple) if current.mx_ttl is not None else None
    return DomainPlan(
        domain=current.domain,
        current=current,
        changes=tuple(c for s in sections for c in s.changes),
        spf_record=merged,
        spf_lookups=spf_count.dns_lookups if spf_count else None,
        spf_void_lookups=spf_count.void_lookups if spf_count else None,
        findings=tuple(f for s in sections for f in s.findings),
        mx_ttl=current.mx_ttl,
        cutover_wait_seconds=wait,
        earliest_cutover=now + timedelta(seconds=wait) if wait is not None else None,
        dkim=key,
    )


def build_plan(
    inputs: DNSInputs,
    *,
    dkim_keys: Mapping[str, SecretStr | None],
    now: datetime | None = None,
) -> DNSPlan:
    """Read every domain's DNS and return the plan. ``dkim_keys``: stored key per domain or None.

    Raises :class:`DNSCheckError` naming the domain and server when DNS cannot be read.
    """
    now = now or datetime.now(UTC)
    servers, options = inputs.servers, inputs.options
    timeout = servers.timeout
    counting = make_resolver(servers.resolvers, timeout=timeout) if servers.resolvers else None
    plans: list[DomainPlan] = []
    for dom in inputs.domains:
        current = read_current(
            dom.name,
            nameservers=nameservers_for(dom.name, servers=servers),
            selector=options.dkim_selector,
            client_names=client_names(dom.name),
            timeout=timeout,
        )
        key = dkim_mod.load_key(dom.name, options.dkim_selector, dkim_keys.get(dom.name))
        merged = spf_mod.merge_spf(current.spf, inputs.hosted.spf_include)
        count = (
            spf_check.count_lookups(merged, dom.name, resolver=counting, timeout=timeout)
            if counting is not None
            else None
        )
        plans.append(
            plan_domain(
                current,
                key,
                hosted=inputs.hosted,
                options=options,
                ttl_multiple=inputs.ttl_multiple,
                spf_count=count,
                now=now,
            )
        )
    return DNSPlan(inputs.customer, inputs.customer_slug, now, tuple(plans))
