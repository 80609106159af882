"""SPF against DNS: lookup counts and syntax (checkdmarc), evaluation for an IP (pyspf).

Both libraries keep global DNS state, so each call runs inside a tight scope
(:mod:`._scope`): checkdmarc's resolver-blind cache is emptied around it (reference dns.md §1)
and pyspf sees our resolver as dnspython's default only while it evaluates (§6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import checkdmarc.spf
import dns.exception
import dns.resolver
import spf as pyspf

from onboarding.dnscheck._exceptions import translate
from onboarding.dnscheck._scope import checkdmarc_scope, default_resolver_scope
from onboarding.dnscheck.results import CheckResult, Finding, Severity
from onboarding.dnscheck.spf import (
    all_findings,
    include_findings,
    lookup_findings,
    old_provider_includes,
    record_count_findings,
    spf_records,
)

__all__ = ["LookupCount", "check_spf", "count_lookups", "evaluate_spf"]


@dataclass(frozen=True)
class LookupCount:
    """What checkdmarc found when it expanded a record: lookup counts, error, warnings."""

    dns_lookups: int | None
    void_lookups: int | None
    error: str | None = None
    include_without_spf: str | None = None
    warnings: tuple[str, ...] = ()

    def findings(self, domain: str, *, with_ours: bool) -> tuple[Finding, ...]:
        """Turn the count and checkdmarc's error into findings."""
        found = list(
            lookup_findings(domain, self.dns_lookups, self.void_lookups, with_ours=with_ours)
        )
        if self.include_without_spf:
            found.append(
                Finding(
                    Severity.FAIL,
                    "include-without-spf",
                    f"{domain}: include:{self.include_without_spf} has no SPF record, which "
                    "makes the whole record a permerror (RFC 7208 §5.2)",
                    fix=f"remove include:{self.include_without_spf}, or ask its provider why it "
                    "publishes no SPF record",
                )
            )
        elif self.error and "DNS lookups" not in self.error:
            found.append(
                Finding(
                    Severity.FAIL,
                    "spf-syntax",
                    f"{domain}: {self.error}",
                    fix="correct the record; the DNS plan has a valid one",
                )
            )
        return tuple(found)


def count_lookups(
    record: str, domain: str, *, resolver: dns.resolver.Resolver, timeout: float
) -> LookupCount:
    """Expand ``record`` as if published at ``domain`` and count its DNS lookups.

    Works before the record is published: only the terms' targets are queried.
    """
    try:
        with checkdmarc_scope():
            parsed = checkdmarc.spf.parse_spf_record(
                record,
                domain,
                ignore_too_many_lookups=True,
                resolver=resolver,
                timeout=timeout,
                retries=0,
            )
    except checkdmarc.spf.SPFRecordNotFound as exc:
        target = getattr(exc, "domain", None)
        lookups = getattr(exc, "data", None) or {}
        return LookupCount(
            lookups.get("dns_lookups"),
            lookups.get("void_dns_lookups"),
            str(exc),
            include_without_spf=target if target != domain else None,
            warnings=tuple(getattr(exc, "warnings", ())),
        )
    except checkdmarc.spf.SPFError as exc:
        data = getattr(exc, "data", None) or {}
        return LookupCount(
            data.get("dns_lookups"),
            data.get("void_dns_lookups"),
            str(exc.args[0]) if exc.args else str(exc),
            warnings=tuple(getattr(exc, "warnings", ())),
        )
    return LookupCount(
        parsed["dns_lookups"],
        parsed["void_dns_lookups"],
        parsed.get("error"),
        warnings=tuple(parsed["warnings"]),
    )


def evaluate_spf(
    ip: str, domain: str, *, resolver: dns.resolver.Resolver, timeout: float
) -> tuple[str, str]:
    """Return pyspf's ``(result, explanation)`` for mail from ``postmaster@domain`` sent by ``ip``.

    ``result`` is one of pass, fail, softfail, neutral, none, temperror, permerror. Each
    lookup may take ``timeout``; the whole evaluation at most 3 × ``timeout`` (RFC 7208 §4.6.4
    asks for a bound; pyspf's default is 20 s).
    """
    with default_resolver_scope(resolver):
        result, explanation = pyspf.check2(
            i=ip, s=f"postmaster@{domain}", h=domain, timeout=timeout, querytime=3 * timeout
        )
    return str(result), str(explanation)


def check_spf(
    domain: str,
    *,
    resolver: dns.resolver.Resolver,
    our_include: str,
    outbound_ips: Sequence[str],
    old_includes: Sequence[str] = (),
    old_mail_hosts: Sequence[str] = (),
    timeout: float,
) -> CheckResult:
    """Check the published SPF: one record, syntax, budgets, our include, ``all``, and a pass
    for each of our outbound IPs (pyspf). Never raises.
    """
    try:
        answer = resolver.resolve(domain, "TXT", lifetime=timeout, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return CheckResult("spf", domain, error=f"{domain}: the domain does not exist (NXDOMAIN)")
    except dns.exception.DNSException as exc:
        return CheckResult("spf", domain, error=str(translate(exc, what=f"TXT of {domain}")))
    txts = (
        [b"".join(rd.strings).decode("utf-8", "replace") for rd in answer.rrset]
        if answer.rrset is not None
        else []
    )
    records = spf_records(txts)
    findings = list(record_count_findings(domain, records))
    if len(records) != 1:
        return CheckResult("spf", domain, tuple(findings), record=" | ".join(records) or None)
    record = records[0]
    findings += all_findings(domain, record)
    findings += count_lookups(record, domain, resolver=resolver, timeout=timeout).findings(
        domain, with_ours=False
    )
    old = old_provider_includes(
        record, our_include=our_include, old_mail_hosts=old_mail_hosts, declared=old_includes
    )
    findings += include_findings(
        domain, record, our_include=our_include, old_includes=old, after_cutover=True
    )
    for ip in outbound_ips:
        try:
            result, explanation = evaluate_spf(ip, domain, resolver=resolver, timeout=timeout)
        except Exception as exc:  # pyspf raises its own and dnspython errors; fold them in
            result, explanation = "temperror", str(exc)
        if result != "pass":
            findings.append(
                Finding(
                    Severity.FAIL,
                    "ip-not-pass",
                    f"{domain}: SPF gives {result} for our outbound IP {ip} ({explanation})",
                    fix=f"make sure include:{our_include} is in the record and resolves",
                )
            )
        else:
            findings.append(Finding(Severity.PASS, "ip-pass", f"{domain}: SPF passes for {ip}"))
    return CheckResult("spf", domain, tuple(findings), record=record)
