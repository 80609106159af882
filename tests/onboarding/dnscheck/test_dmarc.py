"""DMARC records we emit (valid under RFC 7489 and 9989) and findings on existing ones."""

from __future__ import annotations

import pytest

from onboarding.dnscheck.dmarc import (
    alignment_findings,
    build_dmarc,
    is_dmarc_record,
    parse_tags,
    policy_findings,
    report_authorization_name,
)
from onboarding.dnscheck.results import Severity


def test_emitted_record_has_p_second_and_no_tags_removed_by_rfc9989() -> None:
    """The record we build is ``v=DMARC1; p=...`` with p second, rua only when given, and no tag RFC
    9989 removed."""
    record = build_dmarc("none", "mailto:dmarc@acme.test")
    assert record == "v=DMARC1; p=none; rua=mailto:dmarc@acme.test"
    assert list(parse_tags(record)) == ["v", "p", "rua"]
    assert build_dmarc("reject", None) == "v=DMARC1; p=reject"


def test_an_existing_stricter_policy_is_kept() -> None:
    """A policy the customer already has that is stricter than ours is kept; its removed tags are
    dropped."""
    assert build_dmarc("none", None, existing="v=DMARC1; p=reject; pct=50") == "v=DMARC1; p=reject"
    assert build_dmarc("quarantine", None, existing="v=DMARC1; p=none") == "v=DMARC1; p=quarantine"


def test_bad_policy_is_a_caller_error() -> None:
    """A policy other than none, quarantine or reject is a ValueError naming the three."""
    with pytest.raises(ValueError, match="none, quarantine or reject"):
        build_dmarc("block", None)


def test_record_detection_is_case_sensitive() -> None:
    """Only a record whose first tag is exactly ``v=DMARC1`` (case-sensitive, RFC 7489's grammar) is
    a DMARC record."""
    assert is_dmarc_record("v=DMARC1; p=none")
    assert is_dmarc_record("v=DMARC1")
    assert not is_dmarc_record("v=dmarc1; p=none")
    assert not is_dmarc_record("v=DMARC10; p=none")


def test_policy_that_would_reject_our_mail_and_removed_tags() -> None:
    """p=reject is reported as rejecting our unaligned mail and pct/ri as removed by RFC 9989
    (quoting the tag); p=none or no record gives no finding."""
    found = policy_findings("acme.test", "v=DMARC1; p=reject; pct=50; ri=3600")
    assert [f.code for f in found] == ["policy-rejects-unaligned", "removed-tags"]
    assert found[0].message.startswith("acme.test: DMARC p=reject will reject mail we send")
    assert "pct, ri, removed by RFC 9989" in found[1].message
    assert "pct=50" in found[1].message
    assert policy_findings("acme.test", "v=DMARC1; p=none") == ()
    assert policy_findings("acme.test", None) == ()


def test_report_authorization_only_for_another_domain() -> None:
    """A report address in another organisational domain needs the RFC 7489 7.1 authorisation name;
    one in the domain or its subdomain needs none."""
    assert report_authorization_name("acme.test", "mailto:d@acme.test") is None
    assert report_authorization_name("acme.test", "mailto:d@reports.acme.test") is None
    assert (
        report_authorization_name("acme.test", "mailto:d@dmarc.mailroute.test!10m")
        == "acme.test._report._dmarc.dmarc.mailroute.test"
    )


def test_alignment_needs_dkim_or_spf() -> None:
    """DMARC alignment passes with DKIM alone and fails as alignment-impossible when neither DKIM
    nor SPF passes."""
    assert alignment_findings("a.test", dkim_ok=True, spf_ok=False)[0].severity is Severity.PASS
    (f,) = alignment_findings("a.test", dkim_ok=False, spf_ok=False)
    assert (f.code, f.severity) == ("alignment-impossible", Severity.FAIL)
