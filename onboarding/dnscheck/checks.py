"""``dns-check``: the post-publication checks and the propagation report for a whole customer.

Checks ask the configured resolvers (what the world sees); propagation asks every
authoritative server first, then the resolvers (see :mod:`.propagation`). Neither raises for
DNS trouble: a failure is a ``fail`` result with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onboarding.clientconfig import client_records
from onboarding.dnscheck import dkim as dkim_mod
from onboarding.dnscheck import dmarc as dmarc_mod
from onboarding.dnscheck import spf_check
from onboarding.dnscheck.current import nameservers_for
from onboarding.dnscheck.inputs import DNSInputs, HostedRecords
from onboarding.dnscheck.mx import check_mx
from onboarding.dnscheck.propagation import (
    ExpectedRecord,
    Match,
    PropagationReport,
    check_propagation,
)
from onboarding.dnscheck.query import make_resolver
from onboarding.dnscheck.results import CheckResult, Severity, worst

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


def run_checks(inputs: DNSInputs, *, dkim_public: Mapping[str, str | None]) -> CheckReport:
    """Run the MX, SPF, DKIM and DMARC checks for every domain via ``inputs.servers.resolvers``.

    ``dkim_public``: our public key (base64 ``p=``) per domain, or None when no key is stored.
    Raises ValueError when no resolver is configured.
    """
    hosted, options = inputs.hosted, inputs.options
    timeout = inputs.servers.timeout
    servers = inputs.servers.resolvers
    if not servers:
        raise ValueError("dns.resolvers is empty; list at least one resolver in customer.yaml")
    resolver = make_resolver(servers, timeout=timeout)
    results: list[CheckResult] = []
    for dom in inputs.domains:
        d = dom.name
        results.append(check_mx(d, resolvers=servers, expected=hosted.mx_hosts, timeout=timeout))
        spf = spf_check.check_spf(
            d,
            resolver=resolver,
            our_include=hosted.spf_include,
            outbound_ips=hosted.outbound_ips,
            old_includes=options.old_spf_includes,
            old_mail_hosts=dom.old_mail_hosts,
            timeout=timeout,
        )
        results.append(spf)
        dkim = dkim_mod.check_dkim(
            d,
            options.dkim_selector,
            resolver=resolver,
            expected_public_b64=dkim_public.get(d),
            timeout=timeout,
        )
        results.append(dkim)
        spf_ok = bool(hosted.outbound_ips) and "ip-pass" in spf.codes() and spf.valid
        results.append(
            dmarc_mod.check_dmarc(
                d, resolver=resolver, timeout=timeout, dkim_ok=dkim.valid, spf_ok=spf_ok
            )
        )
    return CheckReport(tuple(results))


def expected_for(
    domain: str, dkim_record: str | None, *, hosted: HostedRecords, selector: str
) -> tuple[ExpectedRecord, ...]:
    """The records propagation waits for: our MX, SPF with our include, DKIM, DMARC, clients.

    ``dkim_record`` is our DKIM TXT value, or None to skip DKIM (no key stored yet).
    """
    out = [
        ExpectedRecord(domain, "MX", tuple(f"{p} {h}" for p, h in hosted.mx_hosts), Match.EXACT),
        ExpectedRecord(domain, "TXT", (hosted.spf_include,), Match.SPF),
        ExpectedRecord(f"_dmarc.{domain}", "TXT", (), Match.DMARC),
    ]
    if dkim_record:
        out.append(
            ExpectedRecord(
                dkim_mod.dkim_record_name(selector, domain),
                "TXT",
                (dkim_record,),
                Match.CONTAINS,
            )
        )
    out.extend(
        ExpectedRecord(r.name, r.rdtype, (r.value,), Match.EXACT)
        for r in client_records(domain, hosted.clients)
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
    inputs: DNSInputs, *, dkim_records: Mapping[str, str | None]
) -> PropagationSummary:
    """Return the propagation report of every domain.

    ``dkim_records``: our DKIM TXT value per domain, or None when no key is stored.
    Raises :class:`DNSCheckError` only when a domain's nameservers cannot be found.
    """
    servers = inputs.servers
    reports: list[PropagationReport] = []
    for dom in inputs.domains:
        nameservers = nameservers_for(dom.name, servers=servers)
        expected = expected_for(
            dom.name,
            dkim_records.get(dom.name),
            hosted=inputs.hosted,
            selector=inputs.options.dkim_selector,
        )
        reports.append(
            check_propagation(
                dom.name,
                expected,
                nameservers=nameservers,
                resolvers=servers.resolvers,
                timeout=servers.timeout,
            )
        )
    return PropagationSummary(tuple(reports))
