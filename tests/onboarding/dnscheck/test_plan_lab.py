"""The whole loop on the lab DNS: plan from the authoritative server, publish, check, propagate."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from support.dns_customer import OUR_IP, hosted_records

from onboarding.dnscheck import (
    DNSCheckError,
    DNSInputs,
    DNSServers,
    DomainInput,
    NoNameserversError,
    RecordOptions,
    Severity,
    build_plan,
)
from onboarding.dnscheck.checks import run_checks, run_propagation
from onboarding.dnscheck.query import Server, query_resolver
from onboarding.dnscheck.zonefile import txt_rdata

from .conftest import DNSLab


def _inputs(
    dns_lab: DNSLab, domain: str, ours: str, *, nameservers: tuple[Server, ...] | None = None
) -> DNSInputs:
    """One lab domain whose old mail server is ``mx1.old.<ours>``; the spec's defaults else.

    ``nameservers`` defaults to the lab's authoritative server; ``()`` means discover from NS.
    """
    return DNSInputs(
        customer="Lab Customer",
        customer_slug="lab-customer",
        domains=(DomainInput(domain, (f"mx1.old.{ours}",)),),
        hosted=hosted_records(ours),
        options=RecordOptions(
            dkim_selector="mr1",
            dmarc_policy="none",
            dmarc_rua=f"mailto:dmarc@{domain}",
            old_spf_includes=(),
        ),
        servers=DNSServers(
            resolvers=(dns_lab.resolver,),
            nameservers=(dns_lab.auth,) if nameservers is None else nameservers,
            timeout=3,
        ),
        ttl_multiple=2.0,
    )


def test_plan_publish_check_and_propagate(dns_lab: DNSLab, zone: str) -> None:
    """Publishing exactly the plan's records propagates, passes the checks, and re-plans empty."""
    ours = f"mr{secrets.token_hex(3)}.test"
    dns_lab.publish(
        ours,
        f'spf IN TXT "v=spf1 ip4:{OUR_IP} -all"\nmail IN A {OUR_IP}\n'
        f'old IN TXT "v=spf1 ip4:198.51.100.0/24 -all"\nmx1.old IN A 198.51.100.10',
    )
    dns_lab.publish(
        zone,
        f"@ 3600 IN MX 10 mx1.old.{ours}.\n"
        f'@ IN TXT "v=spf1 include:old.{ours} ~all"\n@ IN TXT "v=spf1 ip4:203.0.113.5 -all"\n'
        '_dmarc IN TXT "v=DMARC1; p=reject; pct=50"\n'
        '_mta-sts IN TXT "v=STSv1; id=20260101"',
        minimum=60,
    )
    inputs = _inputs(dns_lab, zone, ours)
    now = datetime.now(UTC)
    plan = build_plan(inputs, dkim_keys={}, now=now)
    (dp,) = plan.domains
    assert dp.mx_ttl == 3600 and dp.earliest_cutover == now + timedelta(seconds=7200)
    assert dp.current.negative_ttl == 60  # min(SOA TTL 300, MINIMUM 60), RFC 2308
    assert dp.spf_record == (f"v=spf1 include:old.{ours} ip4:203.0.113.5 include:spf.{ours} -all")
    assert dp.spf_lookups == 2
    codes = {f.code for f in dp.findings}
    assert {"multiple-records", "policy-rejects-unaligned", "removed-tags", "mta-sts"} <= codes
    assert "old-provider-include" in codes  # old.<ours> shares the old MX host's domain
    assert dp.dkim.bits == 2048 and not dp.dkim.reused

    # The customer publishes exactly what the plan says (the zone snippet's records).
    body = "\n".join(
        f"{r.name}. {r.ttl} IN {r.rdtype} {txt_rdata(r.value) if r.rdtype == 'TXT' else r.value}"
        for r in dp.expected
    )
    dns_lab.publish(zone, body + '\n_mta-sts IN TXT "v=STSv1; id=20261127"')

    # Nothing asked the resolver about the new names before, so they propagate at once.
    (prop,) = run_propagation(inputs, dkim_records={zone: dp.dkim.record}).reports
    assert prop.propagated, prop.to_dict()

    report = run_checks(inputs, dkim_public={zone: dp.dkim.public_b64})
    by_check = {r.check: r for r in report.results}
    assert by_check["mx"].status is Severity.PASS
    assert by_check["dkim"].status is Severity.PASS
    assert by_check["spf"].status is Severity.WARN  # the old include is still there
    assert "ip-pass" in by_check["spf"].codes()
    assert by_check["dmarc"].valid and "alignment" in by_check["dmarc"].codes()
    assert report.status is not Severity.FAIL

    # Re-planning with the stored key changes nothing: every record is already right.
    again = build_plan(inputs, dkim_keys={zone: dp.dkim.private_pem}, now=now)
    (dp2,) = again.domains
    assert dp2.dkim.reused and dp2.dkim.record == dp.dkim.record
    assert dp2.to_add == () and dp2.to_remove == ()


def test_checks_fail_with_fixes_before_anything_is_published(dns_lab: DNSLab, zone: str) -> None:
    """Before the customer publishes, every check fails and each failure names its fix."""
    ours = f"mr{secrets.token_hex(3)}.test"
    dns_lab.publish(ours, f'spf IN TXT "v=spf1 ip4:{OUR_IP} -all"')
    dns_lab.publish(zone, f"@ IN MX 10 mx1.old.{ours}.")
    report = run_checks(_inputs(dns_lab, zone, ours), dkim_public={zone: None})
    by_check = {r.check: r for r in report.results}
    assert by_check["mx"].codes() == ("foreign-mx", "missing-mx")
    assert by_check["spf"].codes() == ("no-record",)
    assert by_check["dkim"].codes() == ("no-key",)
    assert "alignment-impossible" in by_check["dmarc"].codes()
    assert all(f.fix for r in report.results for f in r.findings if f.severity is Severity.FAIL)


def test_plan_errors_are_clear_for_missing_domain_and_dead_servers(
    dns_lab: DNSLab, zone: str
) -> None:
    """A missing domain and undiscoverable nameservers raise errors that say which it is."""
    dns_lab.publish(zone, "@ IN MX 10 mx1.old.test.")
    with pytest.raises(DNSCheckError, match=r"does not exist at its authoritative servers"):
        build_plan(_inputs(dns_lab, f"nosuch.{zone}", "x.test"), dkim_keys={})
    with pytest.raises(NoNameserversError, match=r"does not exist \(NXDOMAIN\)"):
        build_plan(_inputs(dns_lab, f"nosuch.{zone}", "x.test", nameservers=()), dkim_keys={})
    assert query_resolver(zone, "MX", dns_lab.resolver, timeout=3).exists
