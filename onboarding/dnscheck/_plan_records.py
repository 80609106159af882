"""What each record kind contributes to a domain's DNS plan: one pure function per kind.

MX, SPF, DKIM, DMARC, MTA-STS, the client-configuration names and the MX TTL each return a
:class:`Section` (its record changes and findings); :func:`~onboarding.dnscheck.plan.plan_domain`
concatenates them in that order. No DNS here: every function reads a
:class:`~onboarding.dnscheck.current.CurrentDNS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from onboarding.clientconfig import ClientHosts, client_records
from onboarding.dnscheck import dkim as dkim_mod
from onboarding.dnscheck import dmarc as dmarc_mod
from onboarding.dnscheck import spf as spf_mod
from onboarding.dnscheck import spf_check
from onboarding.dnscheck.current import CurrentDNS
from onboarding.dnscheck.inputs import HostedRecords, RecordOptions
from onboarding.dnscheck.results import Finding, Severity
from onboarding.dnscheck.zonefile import Record

__all__ = [
    "LONG_MX_TTL",
    "NEW_RECORD_TTL",
    "RecordChange",
    "Section",
    "client_section",
    "dkim_section",
    "dmarc_section",
    "mta_sts_section",
    "mx_section",
    "mx_ttl_section",
    "spf_section",
]

NEW_RECORD_TTL = 3600
LONG_MX_TTL = 3600  # above this, suggest lowering the TTL ahead of the cutover (dns.md §4)


@dataclass(frozen=True)
class RecordChange:
    """``remove`` or ``add`` one record (``keep`` when it is already right)."""

    action: str
    record: Record
    why: str


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
    """Removals of ``current`` values not wanted, then ``wanted`` as ``keep`` or ``add``.

    ``norm`` compares values (case, trailing dots), so a record that is already right is
    kept, never asked for again.
    """
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
class Section:
    """What one record kind contributes to a domain's plan, in the order it is shown."""

    changes: tuple[RecordChange, ...] = ()
    findings: tuple[Finding, ...] = ()


def mx_section(current: CurrentDNS, hosted: HostedRecords) -> Section:
    """MX: only the hosted service receives the domain's mail."""
    return Section(
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


def spf_section(
    current: CurrentDNS,
    merged: str,
    *,
    hosted: HostedRecords,
    options: RecordOptions,
    spf_count: spf_check.LookupCount | None,
) -> Section:
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
    return Section(tuple(changes), tuple(findings))


def dkim_section(current: CurrentDNS, key: dkim_mod.DKIMKey) -> Section:
    """DKIM: our key at our selector, replacing any other key published there."""
    return Section(
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


def dmarc_section(current: CurrentDNS, options: RecordOptions) -> Section:
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
    return Section(tuple(changes), tuple(findings))


def mta_sts_section(current: CurrentDNS) -> Section:
    """MTA-STS: senders cache the policy; our MX must be in it before the cutover."""
    if not current.mta_sts:
        return Section()
    finding = Finding(
        Severity.WARN,
        "mta-sts",
        f"{current.domain}: publishes MTA-STS ({current.mta_sts[0]}); senders that cached the "
        "policy refuse MX hosts it does not list (RFC 8461 §5)",
        fix="add our MX hosts as mx: lines to the policy and change the id before the "
        "cutover; remove the old hosts after max_age",
    )
    return Section(findings=(finding,))


def client_section(current: CurrentDNS, clients: ClientHosts) -> Section:
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
    return Section(tuple(changes))


def mx_ttl_section(current: CurrentDNS) -> Section:
    """MX TTL: above :data:`LONG_MX_TTL`, advise lowering it ahead of the change (dns.md §4)."""
    ttl = current.mx_ttl
    if ttl is None or ttl <= LONG_MX_TTL:
        return Section()
    finding = Finding(
        Severity.INFO,
        "mx-ttl-long",
        f"{current.domain}: the MX TTL is {ttl} s, so resolvers may keep the old MX "
        f"for up to {ttl / 3600:g} h after the change",
        fix=f"lower the MX TTL to {LONG_MX_TTL // 12} s at least {ttl} s "
        "before changing the MX, to shorten the cutover wait",
    )
    return Section(findings=(finding,))
