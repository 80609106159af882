"""``dns-check``: the post-publication checks and the propagation report for a whole spec.

Checks ask the configured resolvers (what the world sees); propagation asks every
authoritative server first, then the resolvers (see :mod:`.propagation`). Neither raises for
DNS trouble: a failure is a ``fail`` result with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onboarding.clientconfig import ClientHosts, client_records
from onboarding.dnscheck import dkim as dkim_mod
from onboarding.dnscheck import dmarc as dmarc_mod
from onboarding.dnscheck import spf_check
from onboarding.dnscheck.current import nameservers_for
from onboarding.dnscheck.mx import check_mx
from onboarding.dnscheck.propagation import (
    ExpectedRecord,
    Match,
    PropagationReport,
    check_propagation,
)
from onboarding.dnscheck.query import make_resolver, parse_server
from onboarding.dnscheck.results import CheckResult, Severity, worst
from validation.spec import OnboardingSpec

__all__ = ["CheckReport", "PropagationSummary", "expected_for", "run_checks", "run_propagation"]


@dataclass(frozen=True)
class CheckReport:
    """All check results of one ``dns-check`` run."""

    results: tuple[CheckResult, ...]

    @property
    def status(self) -> Severity:
        return worst(tuple(r.status for r in self.results))

    def to_dict(self) -> dict[str, Any]:
        return {"status": str(self.status), "results": [r.to_dict() for r in self.results]}


def run_checks(spec: OnboardingSpec, *, dkim_public: Mapping[str, str | None]) -> CheckReport:
    """Run the MX, SPF, DKIM and DMARC checks for every domain via ``spec.dns.resolvers``.

    ``dkim_public``: our public key (base64 ``p=``) per domain, or None when no key is stored.
    """
    timeout = spec.dns.timeout_seconds
    servers = tuple(parse_server(s) for s in spec.dns.resolvers)
    if not servers:
        raise ValueError("dns.resolvers is empty; list at least one resolver in customer.yaml")
    resolver = make_resolver(servers, timeout=timeout)
    results: list[CheckResult] = []
    for dom in spec.domains:
        d = dom.name
        results.append(
            check_mx(
                d,
                resolvers=servers,
                expected=[(m.priority, m.host) for m in spec.hosted.mx_hosts],
                timeout=timeout,
            )
        )
        spf = spf_check.check_spf(
            d,
            resolver=resolver,
            our_include=spec.hosted.spf_include,
            outbound_ips=spec.hosted.outbound_ips,
            old_includes=spec.dns.old_spf_includes,
            old_mail_hosts=[s.host for s in dom.mail_servers],
            timeout=timeout,
        )
        results.append(spf)
        dkim = dkim_mod.check_dkim(
            d,
            spec.dns.dkim_selector,
            resolver=resolver,
            expected_public_b64=dkim_public.get(d),
            timeout=timeout,
        )
        results.append(dkim)
        spf_ok = bool(spec.hosted.outbound_ips) and "ip-pass" in spf.codes() and spf.valid
        results.append(
            dmarc_mod.check_dmarc(
                d, resolver=resolver, timeout=timeout, dkim_ok=dkim.valid, spf_ok=spf_ok
            )
        )
    return CheckReport(tuple(results))


def expected_for(
    spec: OnboardingSpec, domain: str, dkim_record: str | None
) -> tuple[ExpectedRecord, ...]:
    """The records propagation waits for: our MX, SPF with our include, DKIM, DMARC, clients."""
    hosted = spec.hosted
    out = [
        ExpectedRecord(
            domain, "MX", tuple(f"{m.priority} {m.host}" for m in hosted.mx_hosts), Match.EXACT
        ),
        ExpectedRecord(domain, "TXT", (hosted.spf_include,), Match.SPF),
        ExpectedRecord(f"_dmarc.{domain}", "TXT", (), Match.DMARC),
    ]
    if dkim_record:
        out.append(
            ExpectedRecord(
                dkim_mod.dkim_record_name(spec.dns.dkim_selector, domain),
                "TXT",
                (dkim_record,),
                Match.CONTAINS,
            )
        )
    hosts = ClientHosts(
        hosted.client_imap_host,
        hosted.client_submission_host,
        hosted.autoconfig_host,
        hosted.autodiscover_host,
    )
    out.extend(
        ExpectedRecord(r.name, r.rdtype, (r.value,), Match.EXACT)
        for r in client_records(domain, hosts)
    )
    return tuple(out)


@dataclass(frozen=True)
class PropagationSummary:
    """Propagation of every domain: done when each domain is; ETA = the largest ETA."""

    reports: tuple[PropagationReport, ...]

    @property
    def propagated(self) -> bool:
        return bool(self.reports) and all(r.propagated for r in self.reports)

    @property
    def eta_seconds(self) -> int | None:
        """0 when propagated; None while a record is not yet published everywhere."""
        if self.propagated:
            return 0
        etas = [r.eta_seconds for r in self.reports]
        if any(e is None for e in etas):
            return None
        return max(e for e in etas if e is not None)

    @property
    def message(self) -> str:
        if self.propagated:
            return "propagated"
        if self.eta_seconds is None:
            return "not yet propagated: not every authoritative server publishes the records"
        return f"not yet propagated (ETA {self.eta_seconds} s)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "propagated": self.propagated,
            "eta_seconds": self.eta_seconds,
            "domains": [r.to_dict() for r in self.reports],
        }


def run_propagation(
    spec: OnboardingSpec, *, dkim_records: Mapping[str, str | None]
) -> PropagationSummary:
    """Return the propagation report of every domain.

    Raises :class:`DNSCheckError` only when a domain's nameservers cannot be found.
    """
    timeout = spec.dns.timeout_seconds
    resolvers = tuple(parse_server(s) for s in spec.dns.resolvers)
    reports: list[PropagationReport] = []
    for dom in spec.domains:
        servers = nameservers_for(spec, dom.name)
        reports.append(
            check_propagation(
                dom.name,
                expected_for(spec, dom.name, dkim_records.get(dom.name)),
                nameservers=servers,
                resolvers=resolvers,
                timeout=timeout,
            )
        )
    return PropagationSummary(tuple(reports))
