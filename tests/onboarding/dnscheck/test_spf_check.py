"""Each SPF conflict of reference dns.md §7, published in the lab zone and detected with its
message by the plan (before publishing) or the check (after)."""

from __future__ import annotations

import secrets

import pytest

from onboarding.dnscheck.query import make_resolver
from onboarding.dnscheck.results import CheckResult, Severity
from onboarding.dnscheck.spf import merge_spf
from onboarding.dnscheck.spf_check import check_spf, count_lookups, evaluate_spf
from onboarding.dnscheck.zonefile import txt_rdata

from .conftest import DNSLab

OUR_IP = "192.0.2.25"
OLD_IP = "198.51.100.7"


class World:
    """A customer zone, our provider zone and an old provider zone, all fresh."""

    def __init__(self, dns_lab: DNSLab) -> None:
        token = secrets.token_hex(3)
        self.lab = dns_lab
        self.customer = f"c{token}.test"
        self.ours = f"spf.mr{token}.test"
        self.old = f"old{token}.test"
        self.resolver = make_resolver((dns_lab.resolver,), timeout=3)
        dns_lab.publish(f"mr{token}.test", f'spf IN TXT "v=spf1 ip4:{OUR_IP} -all"')

    def provider(self, body: str) -> None:
        self.lab.publish(self.old, body)

    def customer_zone(self, *spf: str, extra: str = "") -> None:
        txt = "\n".join(f"@ IN TXT {txt_rdata(s)}" for s in spf)
        self.lab.publish(self.customer, f"@ IN MX 10 mx1.{self.old}.\n{txt}\n{extra}")

    def check(self, domain: str = "", **kw: object) -> CheckResult:
        return check_spf(
            domain or self.customer,
            resolver=self.resolver,
            our_include=self.ours,
            outbound_ips=[OUR_IP],
            old_mail_hosts=[f"mx1.{self.old}"],
            timeout=3,
            **kw,  # type: ignore[arg-type]
        )


@pytest.fixture
def world(dns_lab: DNSLab) -> World:
    return World(dns_lab)


def _finding(result: CheckResult, code: str):  # type: ignore[no-untyped-def]
    matches = [f for f in result.findings if f.code == code]
    assert matches, f"no {code} finding in {result.findings}"
    return matches[0]


def test_a_correct_record_passes_for_our_ip(world: World) -> None:
    """A published record with our include passes, and our outbound IP evaluates to pass."""
    world.customer_zone(f"v=spf1 include:{world.ours} -all")
    result = world.check()
    assert result.status is Severity.PASS, result.findings
    assert result.codes() == ("ip-pass",)


def test_new_record_added_beside_the_old_one(world: World) -> None:
    """Row 1: two records → permerror (pyspf agrees); the plan offers one merged record."""
    world.provider(f'_spf IN TXT "v=spf1 ip4:{OLD_IP} -all"')
    old_record = f"v=spf1 include:_spf.{world.old} ~all"
    merged = merge_spf([old_record, f"v=spf1 include:{world.ours} -all"], world.ours)
    world.customer_zone(
        old_record, f"v=spf1 include:{world.ours} -all", extra=f'merged IN TXT "{merged}"'
    )
    result = world.check()
    f = _finding(result, "multiple-records")
    assert f.severity is Severity.FAIL
    assert f.message == (
        f"{world.customer} has 2 SPF records; RFC 7208 §4.5 makes that a permerror, so no mail "
        "passes SPF"
    )
    result_ip = evaluate_spf(OUR_IP, world.customer, resolver=world.resolver, timeout=3)
    assert result_ip[0] == "permerror"
    assert merged == f"v=spf1 include:_spf.{world.old} include:{world.ours} -all"
    assert world.check(f"merged.{world.customer}").status is Severity.WARN  # old include left


def test_our_include_pushes_the_count_past_ten(world: World) -> None:
    """Row 2: 10 lookups today, 11 with ours → counted before publishing, with the numbers."""
    world.provider("\n".join(f'i{n} IN TXT "v=spf1 ip4:198.51.100.{n} -all"' for n in range(10)))
    current = "v=spf1 " + " ".join(f"include:i{n}.{world.old}" for n in range(10)) + " ~all"
    world.customer_zone(current)
    assert (
        count_lookups(current, world.customer, resolver=world.resolver, timeout=3).dns_lookups == 10
    )
    merged = merge_spf([current], world.ours)
    count = count_lookups(merged, world.customer, resolver=world.resolver, timeout=3)
    (f,) = [
        x for x in count.findings(world.customer, with_ours=True) if x.code == "too-many-lookups"
    ]
    assert f.message.startswith(
        f"{world.customer}: the SPF record with our include needs 11/10 DNS lookups"
    )
    world.customer_zone(merged)
    assert (
        evaluate_spf(OUR_IP, world.customer, resolver=world.resolver, timeout=3)[0] == "permerror"
    )
    assert _finding(world.check(), "too-many-lookups").severity is Severity.FAIL


def test_old_provider_deleted_its_spf_host(world: World) -> None:
    """Row 3: include target without SPF → permerror for everyone."""
    world.provider("mx1 IN A 198.51.100.10")  # _spf is gone
    world.customer_zone(f"v=spf1 include:_spf.{world.old} include:{world.ours} ~all")
    result = world.check()
    f = _finding(result, "include-without-spf")
    assert f.message == (
        f"{world.customer}: include:_spf.{world.old} has no SPF record, which makes the whole "
        "record a permerror (RFC 7208 §5.2)"
    )
    assert _finding(result, "ip-not-pass").message.startswith(
        f"{world.customer}: SPF gives permerror for our outbound IP {OUR_IP}"
    )


@pytest.mark.parametrize(("gone", "code", "severity"), [
    (2, "void-lookups", Severity.WARN),
    (3, "too-many-void-lookups", Severity.FAIL),
])  # fmt: skip
def test_terms_pointing_at_decommissioned_names(
    world: World, gone: int, code: str, severity: Severity
) -> None:
    """Row 4: a:/mx: at names that no longer exist are void lookups; a third is a permerror."""
    world.provider("mx1 IN A 198.51.100.10")
    terms = " ".join(f"a:gone{n}.{world.old}" for n in range(gone))
    world.customer_zone(f"v=spf1 include:{world.ours} {terms} -all")
    f = _finding(world.check(), code)
    assert f.severity is severity
    assert f"has {gone}/2 void lookups" in f.message or f"has {gone} void lookup(s)" in f.message


def test_old_include_left_but_still_valid(world: World) -> None:
    """Row 5: silent in the RFC, a warning here: it still authorises the old sender."""
    world.provider(f'_spf IN TXT "v=spf1 ip4:{OLD_IP} -all"\nmx1 IN A 198.51.100.10')
    world.customer_zone(f"v=spf1 include:_spf.{world.old} include:{world.ours} -all")
    result = world.check()
    assert evaluate_spf(OLD_IP, world.customer, resolver=world.resolver, timeout=3)[0] == "pass"
    f = _finding(result, "old-provider-include")
    assert f.severity is Severity.WARN
    assert f.message == (
        f"{world.customer}: include:_spf.{world.old} (same provider as the current MX host "
        f"mx1.{world.old}) still authorises the old provider's servers to send as the domain"
    )
    assert result.valid


def test_mx_term_kept_after_the_cutover(world: World) -> None:
    """Row 6: the mx term now means our inbound hosts; reported as info."""
    world.provider("mx1 IN A 198.51.100.10")
    world.customer_zone(f"v=spf1 mx include:{world.ours} -all")
    f = _finding(world.check(), "mx-mechanism")
    assert f.severity is Severity.INFO
    assert "mx term now authorises the new inbound hosts" in f.message


@pytest.mark.parametrize(("qual", "code", "severity", "anyone"), [
    ("+", "plus-all", Severity.FAIL, "pass"),
    ("?", "neutral-all", Severity.WARN, "neutral"),
])  # fmt: skip
def test_plus_and_neutral_all(
    world: World, qual: str, code: str, severity: Severity, anyone: str
) -> None:
    """Row 7: checkdmarc and pyspf stay silent; we flag it."""
    world.customer_zone(f"v=spf1 include:{world.ours} {qual}all")
    assert (
        evaluate_spf("203.0.113.99", world.customer, resolver=world.resolver, timeout=3)[0]
        == anyone
    )
    f = _finding(world.check(), code)
    assert f.severity is severity
    assert f.message.startswith(f"{world.customer}: SPF ends in {qual}all")


def test_syntax_error_and_missing_include_fail_with_fixes(world: World) -> None:
    """A syntax error fails naming the bad term; a record without our include fails saying our mail
    fails SPF, and our IP does not pass."""
    world.customer_zone("v=spf1 ip4:999.1.1.1 -all", extra='sub IN TXT "v=spf1 mx -all"')
    bad = world.check()
    f = _finding(bad, "spf-syntax")
    assert f.severity is Severity.FAIL and "999.1.1.1" in f.message
    without = world.check(f"sub.{world.customer}")
    assert _finding(without, "missing-our-include").message == (
        f"sub.{world.customer}: the SPF record lacks include:{world.ours}, so mail we send for "
        "the domain fails SPF"
    )
    assert _finding(without, "ip-not-pass").severity is Severity.FAIL
