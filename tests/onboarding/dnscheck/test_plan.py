"""The plan from what is published today (pure: a literal CurrentDNS, no DNS)."""

from __future__ import annotations

from datetime import UTC, datetime

import dns.rrset
import pytest

from onboarding.clientconfig import ClientHosts
from onboarding.dnscheck.current import CurrentDNS
from onboarding.dnscheck.dkim import load_key
from onboarding.dnscheck.inputs import HostedRecords, RecordOptions
from onboarding.dnscheck.plan import DNSPlan, plan_domain
from onboarding.dnscheck.render import render_markdown, render_zone_snippet
from onboarding.dnscheck.spf_check import LookupCount
from onboarding.dnscheck.zonefile import txt_rdata

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
# What examples/acme/customer.yaml tells the engine (its hosted:, dns: and cutover: blocks).
HOSTED = HostedRecords(
    mx_hosts=((10, "mail.mailroute.test"),),
    spf_include="spf.mailroute.test",
    outbound_ips=("192.0.2.25",),
    clients=ClientHosts(
        "imap.mailroute.test",
        "smtp.mailroute.test",
        "autoconfig.mailroute.test",
        "autodiscover.mailroute.test",
    ),
)
OPTIONS = RecordOptions(
    dkim_selector="mr1",
    dmarc_policy="none",
    dmarc_rua="mailto:dmarc-reports@acme.test",
    old_spf_includes=(),
)


@pytest.fixture(scope="module")
def key():  # type: ignore[no-untyped-def]
    return load_key("acme.test", "mr1", None)  # 2048 bits: the record needs two strings


def _current(**kw: object) -> CurrentDNS:
    base: dict[str, object] = {
        "domain": "acme.test",
        "servers": ("127.0.0.1:10053",),
        "mx": ((10, "mx1.oldhost.test"),),
        "mx_ttl": 3600,
        "txt": ("v=spf1 include:_spf.oldhost.test ~all", "v=spf1 mx -all", "site-verify=1"),
        "dmarc": ("v=DMARC1; p=reject; pct=100",),
        "mta_sts": (),
        "dkim": (),
        "client": (),
        "negative_ttl": 300,
    }
    base.update(kw)
    return CurrentDNS(**base)  # type: ignore[arg-type]


def _plan(current: CurrentDNS, key, count: LookupCount | None = None):  # type: ignore[no-untyped-def]
    return plan_domain(
        current,
        key,
        hosted=HOSTED,
        options=OPTIONS,
        ttl_multiple=2.0,
        spf_count=count or LookupCount(3, 0),
        now=NOW,
    )


def test_plan_removes_old_mx_and_both_spf_records_and_adds_one_merged(key) -> None:  # type: ignore[no-untyped-def]
    """The plan removes the old MX, both SPF records and the old DMARC record, and adds our MX, one
    merged SPF record, DMARC, our DKIM key and the client records; an unrelated TXT record stays."""
    plan = _plan(_current(), key)
    removed = {(r.name, r.rdtype, r.value) for r in plan.to_remove}
    assert ("acme.test", "MX", "10 mx1.oldhost.test.") in removed
    assert ("acme.test", "TXT", "v=spf1 include:_spf.oldhost.test ~all") in removed
    assert ("acme.test", "TXT", "v=spf1 mx -all") in removed
    assert ("_dmarc.acme.test", "TXT", "v=DMARC1; p=reject; pct=100") in removed
    added = {(r.name, r.rdtype): r.value for r in plan.to_add}
    assert added[("acme.test", "MX")] == "10 mail.mailroute.test."
    assert added[("acme.test", "TXT")] == (
        "v=spf1 include:_spf.oldhost.test mx include:spf.mailroute.test -all"
    )
    assert added[("_dmarc.acme.test", "TXT")] == (
        "v=DMARC1; p=reject; rua=mailto:dmarc-reports@acme.test"
    )
    assert added[("mr1._domainkey.acme.test", "TXT")] == key.record
    assert added[("_imaps._tcp.acme.test", "SRV")] == "0 1 993 imap.mailroute.test."
    assert added[("autodiscover.acme.test", "CNAME")] == "autodiscover.mailroute.test."
    # the unrelated TXT record is left alone
    assert all("site-verify" not in r.value for r in plan.to_remove)


def test_plan_warns_for_the_conflicts(key) -> None:  # type: ignore[no-untyped-def]
    """Two SPF records, more than 10 SPF lookups, an old provider's include and a DMARC policy that
    rejects our mail are each a finding; the lookup count is reported."""
    plan = _plan(_current(), key, LookupCount(11, 0))
    codes = [f.code for f in plan.findings]
    assert "multiple-records" in codes
    assert "too-many-lookups" in codes
    assert "old-provider-include" in codes
    assert "policy-rejects-unaligned" in codes
    assert plan.spf_lookups == 11


def test_a_long_mx_ttl_gets_advice_to_lower_it_first(key) -> None:  # type: ignore[no-untyped-def]
    """An MX TTL of a day gets a finding saying how long resolvers may keep the old MX and to lower
    it to 300 s that long before; an hour's TTL gets none."""
    plan = _plan(_current(mx_ttl=86400), key)
    (f,) = [f for f in plan.findings if f.code == "mx-ttl-long"]
    assert f.message == (
        "acme.test: the MX TTL is 86400 s, so resolvers may keep the old MX for up to 24 h "
        "after the change"
    )
    assert f.fix.startswith("lower the MX TTL to 300 s at least 86400 s before")
    assert "mx-ttl-long" not in [f.code for f in _plan(_current(mx_ttl=3600), key).findings]


def test_cutover_time_is_ttl_multiple_times_the_mx_ttl(key) -> None:  # type: ignore[no-untyped-def]
    """The cutover wait is ttl_multiple × MX TTL, and the earliest cutover is now plus that wait."""
    plan = _plan(_current(mx_ttl=1800), key)
    assert plan.mx_ttl == 1800 and plan.cutover_wait_seconds == 3600
    assert plan.earliest_cutover == datetime(2026, 11, 27, 13, 0, tzinfo=UTC)


def test_records_already_right_are_kept_not_re_added(key) -> None:  # type: ignore[no-untyped-def]
    """Our MX, an SPF record with our include and our DKIM key, once published, are neither removed
    nor added again."""
    plan = _plan(
        _current(
            mx=((10, "mail.mailroute.test"),),
            txt=("v=spf1 include:spf.mailroute.test ~all",),
            dkim=(key.record,),
        ),
        key,
    )
    assert not any(r.rdtype == "MX" for r in plan.to_add + plan.to_remove)
    assert not any(r.name.startswith("mr1._domainkey") for r in plan.to_add)
    assert not any(r.name == "acme.test" and r.rdtype == "TXT" for r in plan.to_add)


def test_markdown_and_zone_snippet_are_copy_pasteable_and_hold_no_private_key(key) -> None:  # type: ignore[no-untyped-def]
    """The Markdown lists each REMOVE/ADD row, the split DKIM TXT, MX TTL and SPF lookups; every
    zone-snippet line parses with strings of at most 255 bytes; neither (nor to_dict) holds the
    private key."""
    dplan = _plan(_current(), key)
    plan = DNSPlan("Acme Corp", "acme-corp", NOW, (dplan,))
    md = render_markdown(plan)
    assert "## acme.test" in md
    assert "| REMOVE | `@` | MX | 3600 | `10 mx1.oldhost.test.` |" in md
    assert "| ADD | `@` | MX | 3600 | `10 mail.mailroute.test.` |" in md
    assert f"| ADD | `mr1._domainkey` | TXT | 3600 | `{key.record}` |" in md
    assert f"```\n{txt_rdata(key.record)}\n```" in md  # the quoted, split form of DKIM
    assert "Current MX TTL: **3600 s**" in md and "SPF DNS lookups with our include: **3/10**" in md
    zone = render_zone_snippet(plan)
    secret_line = key.private_pem.get_secret_value().splitlines()[1]
    for text in (md, zone, str(plan.to_dict())):
        assert secret_line not in text and "PRIVATE" not in text
    for line in zone.splitlines():
        if line and not line.startswith(";"):
            name, ttl, _in, rdtype, rdata = line.split(" ", 4)
            rrset = dns.rrset.from_text(name, int(ttl), "IN", rdtype, rdata)
            assert all(len(s) <= 255 for rd in rrset for s in getattr(rd, "strings", ()))
    assert "; remove: acme.test. 3600 IN MX 10 mx1.oldhost.test." in zone
