"""MX (RFC 5321 §5.1, RFC 7505): parse answers and check that only our hosts receive mail."""

from __future__ import annotations

from collections.abc import Sequence

from onboarding.dnscheck._exceptions import DNSCheckError
from onboarding.dnscheck.query import AnswerStatus, Server, query_resolver
from onboarding.dnscheck.results import CheckResult, Finding, Severity, findings_or_ok

__all__ = ["MXHost", "check_mx", "mx_findings", "parse_mx"]

MXHost = tuple[int, str]


def parse_mx(records: Sequence[str]) -> tuple[MXHost, ...]:
    """Return (priority, host) pairs by priority: ``"10 mx.a.test."`` → ``(10, "mx.a.test")``."""
    out: list[MXHost] = []
    for rec in records:
        prio, _, host = rec.strip().partition(" ")
        out.append((int(prio), host.strip().rstrip(".").lower()))
    return tuple(sorted(out))


def mx_findings(
    domain: str, current: Sequence[MXHost], expected: Sequence[MXHost]
) -> tuple[Finding, ...]:
    """Findings comparing the published MX set with ours (hosts must match, priority advisory)."""
    want_hosts = {h.lower().rstrip(".") for _, h in expected}
    have_hosts = {h for _, h in current}
    if not current:
        return (
            Finding(
                Severity.FAIL,
                "no-mx",
                f"{domain}: no MX records, so senders deliver to the domain's A record",
                fix="publish the MX records from the DNS plan",
            ),
        )
    if any(h in ("", ".") for h in have_hosts):
        return (
            Finding(
                Severity.FAIL,
                "null-mx",
                f"{domain}: a null MX (RFC 7505) says the domain accepts no mail",
                fix="replace it with the MX records from the DNS plan",
            ),
        )
    found: list[Finding] = []
    extra = sorted(have_hosts - want_hosts)
    missing = sorted(want_hosts - have_hosts)
    if extra:
        found.append(
            Finding(
                Severity.FAIL,
                "foreign-mx",
                f"{domain}: MX still points to {', '.join(extra)}, so some mail bypasses the "
                "hosted service",
                fix=f"delete the MX records for {', '.join(extra)}",
            )
        )
    if missing:
        found.append(
            Finding(
                Severity.FAIL,
                "missing-mx",
                f"{domain}: MX lacks {', '.join(missing)}",
                fix="publish the MX records from the DNS plan",
            )
        )
    return findings_or_ok(found, f"{domain}: MX points only to the hosted service")


def check_mx(
    domain: str,
    *,
    resolvers: Sequence[Server],
    expected: Sequence[MXHost],
    timeout: float,
) -> CheckResult:
    """Check the MX set as the first working resolver sees it. Never raises."""
    last_error = "no resolver configured (dns.resolvers in customer.yaml)"
    for server in resolvers:
        try:
            answer = query_resolver(domain, "MX", server, timeout=timeout)
        except DNSCheckError as exc:
            last_error = str(exc)
            continue
        if answer.status is AnswerStatus.NXDOMAIN:
            return CheckResult("mx", domain, error=f"{domain}: the domain does not exist")
        current = parse_mx(answer.records)
        record = ", ".join(f"{p} {h}" for p, h in current) or None
        return CheckResult("mx", domain, mx_findings(domain, current, expected), record=record)
    return CheckResult("mx", domain, error=last_error)
