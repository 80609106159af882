"""The DNS plan: per domain, what the customer must remove and add, the MX TTL, and conflicts.

Current DNS is read from the domain's authoritative servers (AA answers, configured TTLs,
reference dns.md §4), never from a cache. The plan keeps what the customer still needs (their
SPF senders, a stricter DMARC policy) and adds ours: MX only to the hosted service, one merged
SPF record with its lookup count, our DKIM key, a DMARC record valid under RFC 7489 and 9989,
and the client-configuration names of :mod:`onboarding.clientconfig`.

The DKIM private key comes in from the caller (the task layer keeps it in a Secret block) and
stays inside :class:`~onboarding.dnscheck.dkim.DKIMKey`; :meth:`DNSPlan.to_dict` and the
renderers never include it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr

from onboarding.clientconfig import ClientHosts, client_records
from onboarding.dnscheck import dkim as dkim_mod
from onboarding.dnscheck import dmarc as dmarc_mod
from onboarding.dnscheck import spf as spf_mod
from onboarding.dnscheck import spf_check
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

log = logging.getLogger(__name__)

NEW_RECORD_TTL = 3600
LONG_MX_TTL = 3600  # above this, suggest lowering the TTL ahead of the cutover (dns.md §4)


@dataclass(frozen=True)
class RecordChange:
    """``remove`` or ``add`` one record (``keep`` when it is already right)."""

    action: str
    record: Record
    why: str


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
            "findings": [
                {"severity": str(f.severity), "code": f.code, "message": f.message, "fix": f.fix}
                for f in self.findings
            ],
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


def _diff(
    name: str,
    rdtype: str,
    current: Sequence[str],
    wanted: Sequence[str],
    *,
    ttl: int,
    why_add: str,
    why_remove: str,
    norm: Any = str,
) -> list[RecordChange]:
    out: list[RecordChange] = []
    want_norm = {norm(w) for w in wanted}
    have_norm = {norm(c) for c in current}
    for value in current:
        if norm(value) not in want_norm:
            out.append(RecordChange("remove", Record(name, rdtype, value, ttl), why_remove))
    for value in wanted:
        action = "keep" if norm(value) in have_norm else "add"
        out.append(
            RecordChange(
                action,
                Record(name, rdtype, value, ttl),
                "already published" if action == "keep" else why_add,
            )
        )
    return out


def _norm_host_rdata(value: str) -> str:
    return " ".join(t.rstrip(".").lower() for t in value.split())


@dataclass(frozen=True)
class _Section:
    """What one record kind contributes to a domain's plan, in the order it is shown."""

    changes: tuple[RecordChange, ...] = ()
    findings: tuple[Finding, ...] = ()


def _mx(current: CurrentDNS, hosted: HostedRecords) -> _Section:
    """MX: only the hosted service receives the domain's mail."""
    return _Section(
        tuple(
            _diff(
                current.domain,
                "MX",
                [f"{p} {h}." for p, h in current.mx],
                [f"{p} {h.rstrip('.')}." for p, h in hosted.mx_hosts],
                ttl=NEW_RECORD_TTL,
                why_add="mail goes to the hosted service",
                why_remove="the old mail server must stop receiving mail for the domain",
                norm=_norm_host_rdata,
            )
        )
    )


def _spf(
    current: CurrentDNS,
    merged: str,
    *,
    hosted: HostedRecords,
    options: RecordOptions,
    spf_count: spf_check.LookupCount | None,
) -> _Section:
    """SPF: one ``merged`` record replaces every old one; findings on lookups and includes."""
    domain = current.domain
    old_spf = current.spf
    findings: list[Finding] = []
    if len(old_spf) > 1:
        findings += spf_mod.record_count_findings(domain, old_spf)
    for record in old_spf:
        findings += spf_mod.all_findings(domain, record)
    changes = _diff(
        domain,
        "TXT",
        old_spf,
        [merged],
        ttl=NEW_RECORD_TTL,
        why_add="one SPF record with your senders and ours",
        why_remove="replaced by the merged SPF record (two SPF records are a permerror)",
    )
    if spf_count is not None:
        findings += spf_count.findings(domain, with_ours=True)
    else:
        findings.append(
            Finding(
                Severity.WARN,
                "lookups-not-counted",
                f"{domain}: SPF lookups were not counted (no resolver in dns.resolvers)",
                fix="add a resolver to dns.resolvers and re-run dns-plan",
            )
        )
    old = spf_mod.old_provider_includes(
        merged,
        our_include=hosted.spf_include,
        old_mail_hosts=[h for _, h in current.mx],
        declared=options.old_spf_includes,
    )
    findings += spf_mod.include_findings(
        domain, merged, our_include=hosted.spf_include, old_includes=old, after_cutover=False
    )
    return _Section(tuple(changes), tuple(findings))


def _dkim(current: CurrentDNS, key: dkim_mod.DKIMKey) -> _Section:
    """DKIM: our key at our selector, replacing any other key published there."""
    return _Section(
        tuple(
            _diff(
                key.record_name,
                "TXT",
                current.dkim,
                [key.record],
                ttl=NEW_RECORD_TTL,
                why_add=f"our {key.bits}-bit DKIM key (selector {key.selector})",
                why_remove=f"another key is published at selector {key.selector}; ours replaces it",
            )
        )
    )


def _dmarc(current: CurrentDNS, options: RecordOptions) -> _Section:
    """DMARC: one record valid under RFC 7489 and 9989 that never weakens a stricter policy."""
    domain = current.domain
    existing = current.dmarc[0] if current.dmarc else None
    proposed = dmarc_mod.build_dmarc(options.dmarc_policy, options.dmarc_rua, existing=existing)
    findings = list(dmarc_mod.policy_findings(domain, existing))
    if len(current.dmarc) > 1:
        findings.append(
            Finding(
                Severity.WARN,
                "multiple-dmarc",
                f"{domain}: {len(current.dmarc)} DMARC records; receivers ignore them all",
                fix="keep only the DMARC record from this plan",
            )
        )
    changes = _diff(
        f"_dmarc.{domain}",
        "TXT",
        current.dmarc,
        [proposed],
        ttl=NEW_RECORD_TTL,
        why_add="DMARC valid under RFC 7489 and RFC 9989",
        why_remove="replaced by the DMARC record below",
    )
    auth_name = dmarc_mod.report_authorization_name(domain, options.dmarc_rua)
    if auth_name:
        findings.append(
            Finding(
                Severity.INFO,
                "rua-authorization",
                f"{domain}: DMARC reports go to another domain, which must publish "
                f'{auth_name} TXT "v=DMARC1" (RFC 7489 §7.1)',
                fix=f"ask the report receiver to publish {auth_name}",
            )
        )
    return _Section(tuple(changes), tuple(findings))


def _mta_sts(current: CurrentDNS) -> _Section:
    """MTA-STS: senders cache the policy; our MX must be in it before the cutover."""
    if not current.mta_sts:
        return _Section()
    finding = Finding(
        Severity.WARN,
        "mta-sts",
        f"{current.domain}: publishes MTA-STS ({current.mta_sts[0]}); senders that cached the "
        "policy refuse MX hosts it does not list (RFC 8461 §5)",
        fix="add our MX hosts as mx: lines to the policy and change the id before the "
        "cutover; remove the old hosts after max_age",
    )
    return _Section(findings=(finding,))


def _clients(current: CurrentDNS, clients: ClientHosts) -> _Section:
    """Client configuration: the SRV and autoconfig/autodiscover names of our client hosts."""
    existing = {(n, t): v for n, t, v in current.client}
    changes: list[RecordChange] = []
    for rec in client_records(current.domain, clients):
        changes += _diff(
            rec.name,
            rec.rdtype,
            existing.get((rec.name, rec.rdtype), ()),
            [rec.value],
            ttl=NEW_RECORD_TTL,
            why_add=rec.purpose,
            why_remove="points clients at the old provider",
            norm=_norm_host_rdata,
        )
    return _Section(tuple(changes))


def _mx_ttl(current: CurrentDNS) -> _Section:
    """MX TTL: above :data:`LONG_MX_TTL`, advise lowering it ahead of the change (dns.md §4)."""
    ttl = current.mx_ttl
    if ttl is None or ttl <= LONG_MX_TTL:
        return _Section()
    finding = Finding(
        Severity.INFO,
        "mx-ttl-long",
        f"{current.domain}: the MX TTL is {ttl} s, so resolvers may keep the old MX "
        f"for up to {ttl / 3600:g} h after the change",
        fix=f"lower the MX TTL to {LONG_MX_TTL // 12} s at least {ttl} s "
        "before changing the MX, to shorten the cutover wait",
    )
    return _Section(findings=(finding,))


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
        _mx(current, hosted),
        _spf(current, merged, hosted=hosted, options=options, spf_count=spf_count),
        _dkim(current, key),
        _dmarc(current, options),
        _mta_sts(current),
        _clients(current, hosted.clients),
        _mx_ttl(current),
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
