"""DMARC checks through the lab resolver (checkdmarc with an explicit resolver)."""

from __future__ import annotations

from onboarding.dnscheck.dmarc import build_dmarc, check_dmarc
from onboarding.dnscheck.query import make_resolver
from onboarding.dnscheck.results import Severity

from .conftest import DNSLab


def test_our_record_is_valid_and_alignment_follows_dkim_or_spf(dns_lab: DNSLab, zone: str) -> None:
    """Our published record reads back unchanged and passes when DKIM passes; with neither DKIM nor
    SPF it is invalid as alignment-impossible."""
    record = build_dmarc("quarantine", f"mailto:dmarc@{zone}")
    dns_lab.publish(
        zone, f'@ IN MX 10 mail.{zone}.\nmail IN A 192.0.2.25\n_dmarc IN TXT "{record}"'
    )
    resolver = make_resolver((dns_lab.resolver,), timeout=3)
    ok = check_dmarc(zone, resolver=resolver, timeout=3, dkim_ok=True, spf_ok=False)
    assert ok.status is Severity.PASS, ok.findings
    assert ok.record == record and ok.codes() == ("alignment",)
    bad = check_dmarc(zone, resolver=resolver, timeout=3, dkim_ok=False, spf_ok=False)
    assert bad.codes() == ("alignment-impossible",) and not bad.valid


def test_removed_tags_reported_once_and_bad_policy_invalid(dns_lab: DNSLab, zone: str) -> None:
    """Tags removed by RFC 9989 are one finding (not repeated from checkdmarc); a bad policy is
    invalid with the plan as its fix; a missing record is no-record, named by its DNS name."""
    dns_lab.publish(
        zone,
        f"@ IN MX 10 mail.{zone}.\nmail IN A 192.0.2.25\n"
        f'_dmarc IN TXT "v=DMARC1; p=reject; pct=50; rua=mailto:dmarc@{zone}"\n'
        '_dmarc.bad IN TXT "v=DMARC1; p=block"',
    )
    resolver = make_resolver((dns_lab.resolver,), timeout=3)
    old = check_dmarc(zone, resolver=resolver, timeout=3, dkim_ok=True, spf_ok=True)
    assert old.valid and old.codes().count("removed-tags") == 1
    assert not [f for f in old.findings if f.code == "checkdmarc" and "9989" in f.message]
    bad = check_dmarc(f"bad.{zone}", resolver=resolver, timeout=3, dkim_ok=True, spf_ok=True)
    assert not bad.valid and "invalid" in bad.codes()
    assert bad.findings[0].fix == f"publish the DMARC record from the DNS plan at _dmarc.bad.{zone}"
    none = check_dmarc(f"none.{zone}", resolver=resolver, timeout=3, dkim_ok=True, spf_ok=True)
    assert none.codes() == ("no-record", "alignment")
    assert none.findings[0].message == f"none.{zone}: no DMARC record at _dmarc.none.{zone}"
