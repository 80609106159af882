"""SPF on record text: parsing, merging with our include, and the findings' messages."""

from __future__ import annotations

from onboarding.dnscheck.results import Severity
from onboarding.dnscheck.spf import (
    SPFTerm,
    all_findings,
    all_qualifier,
    include_findings,
    includes,
    is_spf_record,
    lookup_findings,
    merge_spf,
    old_provider_includes,
    parse_terms,
    record_count_findings,
    spf_records,
)

OURS = "spf.mailroute.test"


def test_spf_record_is_exactly_v_spf1_then_space_or_end() -> None:
    """RFC 7208 §4.5: ``v=spf10`` and other TXT values are not SPF records."""
    txts = ["v=spf1 -all", "V=SPF1 mx ~all", "v=spf10 -all", "google-site-verification=x", "v=spf1"]
    assert spf_records(txts) == ("v=spf1 -all", "V=SPF1 mx ~all", "v=spf1")
    assert not is_spf_record("v=spf1-all")


def test_parse_terms_qualifiers_mechanisms_and_modifiers() -> None:
    """An SPF record parses into terms with their qualifier (default +), mechanism or modifier and
    value, and prints back as written; all_qualifier and includes read it."""
    terms = parse_terms(
        "v=spf1 ip4:192.0.2.0/24 -a:mail.acme.test mx/24 ?include:x.test redirect=r.test ~all"
    )
    assert terms == (
        SPFTerm("+", "ip4", "192.0.2.0/24"),
        SPFTerm("-", "a", "mail.acme.test"),
        SPFTerm("+", "mx", "/24"),
        SPFTerm("?", "include", "x.test"),
        SPFTerm("", "redirect", "r.test", modifier=True),
        SPFTerm("~", "all"),
    )
    assert " ".join(t.text for t in terms) == (
        "ip4:192.0.2.0/24 -a:mail.acme.test mx/24 ?include:x.test redirect=r.test ~all"
    )
    assert all_qualifier("v=spf1 mx -all") == "-"
    assert all_qualifier("v=spf1 mx") is None
    assert includes("v=spf1 include:A.test. include:b.test ~all") == ("a.test", "b.test")


def test_merge_two_records_into_one_with_our_include_before_all() -> None:
    """Two records (a permerror) become one with every sender kept, deduplicated, plus ours."""
    merged = merge_spf(
        ["v=spf1 include:old.test ip4:192.0.2.1 ~all", "v=spf1 ip4:192.0.2.1 mx -all"], OURS
    )
    assert merged == "v=spf1 include:old.test ip4:192.0.2.1 mx include:spf.mailroute.test -all"


def test_merge_without_existing_record_is_ours_with_softfail() -> None:
    """With no SPF record today the merged record is our include with ~all."""
    assert merge_spf([], OURS) == "v=spf1 include:spf.mailroute.test ~all"


def test_merge_does_not_repeat_our_include_and_is_idempotent() -> None:
    """A record that already has our include (in any case) is kept as is, and merging again changes
    nothing."""
    first = merge_spf(["v=spf1 include:SPF.mailroute.test -all"], OURS)
    assert first == "v=spf1 include:SPF.mailroute.test -all"
    assert merge_spf([first], OURS) == first


def test_merge_replaces_plus_and_neutral_all_with_softfail() -> None:
    """``+all``/``?all`` would let anyone pass; the merged record ends in ``~all``."""
    assert merge_spf(["v=spf1 mx +all"], OURS).endswith(" ~all")
    assert merge_spf(["v=spf1 mx ?all"], OURS).endswith(" ~all")


def test_merge_turns_redirect_into_include_and_keeps_exp() -> None:
    """A redirect= becomes an include before ours with ~all, and exp= stays at the end."""
    merged = merge_spf(["v=spf1 redirect=_spf.old.test exp=explain.acme.test"], OURS)
    assert merged == (
        "v=spf1 include:_spf.old.test include:spf.mailroute.test ~all exp=explain.acme.test"
    )


def test_multiple_records_message() -> None:
    """Two SPF records fail as multiple-records (RFC 7208 4.5 permerror) with a fix to publish the
    merged record; one record gives nothing; none is no-record."""
    (f,) = record_count_findings("acme.test", ["v=spf1 -all", "v=spf1 mx -all"])
    assert (f.severity, f.code) == (Severity.FAIL, "multiple-records")
    assert f.message == (
        "acme.test has 2 SPF records; RFC 7208 §4.5 makes that a permerror, so no mail passes SPF"
    )
    assert "merged record" in f.fix
    assert record_count_findings("acme.test", ["v=spf1 -all"]) == ()
    assert record_count_findings("acme.test", [])[0].code == "no-record"


def test_all_findings_plus_neutral_and_missing() -> None:
    """+all fails, ?all warns and a record with neither all nor redirect is no-all; -all or a
    redirect gives nothing."""
    assert [f.code for f in all_findings("a.test", "v=spf1 +all")] == ["plus-all"]
    assert all_findings("a.test", "v=spf1 +all")[0].severity is Severity.FAIL
    assert [f.code for f in all_findings("a.test", "v=spf1 mx ?all")] == ["neutral-all"]
    assert all_findings("a.test", "v=spf1 mx ?all")[0].severity is Severity.WARN
    assert [f.code for f in all_findings("a.test", "v=spf1 mx")] == ["no-all"]
    assert all_findings("a.test", "v=spf1 redirect=x.test") == ()
    assert all_findings("a.test", "v=spf1 mx -all") == ()


def test_lookup_budget_messages() -> None:
    """More than 10 DNS lookups fail, stating the count with our include; 10 is fine; 2 void lookups
    warn and more than 2 fail (RFC 7208 4.6.4)."""
    (f,) = lookup_findings("a.test", 11, 0, with_ours=True)
    assert (f.code, f.severity) == ("too-many-lookups", Severity.FAIL)
    assert "needs 11/10 DNS lookups" in f.message and "with our include" in f.message
    assert lookup_findings("a.test", 10, 0, with_ours=True) == ()
    (v,) = lookup_findings("a.test", 3, 2, with_ours=False)
    assert (v.code, v.severity) == ("void-lookups", Severity.WARN)
    (v3,) = lookup_findings("a.test", 3, 3, with_ours=False)
    assert (v3.code, v3.severity) == ("too-many-void-lookups", Severity.FAIL)
    assert "3/2 void lookups" in v3.message


def test_old_provider_is_known_declared_or_shares_the_mx_domain() -> None:
    """An include is the old provider's when it is a known provider's, listed in
    dns.old_spf_includes, or under the current MX host's domain; each comes with its reason, ours
    never."""
    record = (
        "v=spf1 include:spf.protection.outlook.com include:_spf.oldhost.test "
        "include:legacy.test include:spf.mailroute.test ~all"
    )
    found = old_provider_includes(
        record,
        our_include=OURS,
        old_mail_hosts=["mx1.oldhost.test", "127.0.0.1"],
        declared=["legacy.test"],
    )
    assert found == {
        "spf.protection.outlook.com": "Microsoft 365's include",
        "_spf.oldhost.test": "same provider as the current MX host mx1.oldhost.test",
        "legacy.test": "listed in dns.old_spf_includes",
    }


def test_include_findings_missing_ours_old_left_and_mx_after_cutover() -> None:
    """After cutover, a record without our include fails, an old provider's include warns and an mx
    mechanism is noted; before cutover our include alone gives nothing."""
    found = include_findings(
        "a.test",
        "v=spf1 mx include:_spf.old.test ~all",
        our_include=OURS,
        old_includes={"_spf.old.test": "listed in dns.old_spf_includes"},
        after_cutover=True,
    )
    assert [f.code for f in found] == [
        "missing-our-include",
        "old-provider-include",
        "mx-mechanism",
    ]
    assert [f.severity for f in found] == [Severity.FAIL, Severity.WARN, Severity.INFO]
    assert "still authorises the old provider" in found[1].message
    before = include_findings(
        "a.test",
        f"v=spf1 include:{OURS} ~all",
        our_include=OURS,
        old_includes={},
        after_cutover=False,
    )
    assert before == ()
