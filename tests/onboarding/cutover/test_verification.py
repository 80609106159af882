"""Verification open issues: every failure is one row naming the area, subject and fix."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from onboarding.cutover.verification import VerificationReport
from onboarding.dnscheck import CheckReport, CheckResult, Finding, Severity
from onboarding.mailflow import AccountCheck, ProbeResult


def test_failed_logins_probes_and_dns_failures_are_issues_warnings_are_not() -> None:
    """Only FAIL findings of failed checks (and check errors) become DNS issues."""
    dns = CheckReport(
        (
            CheckResult(
                "mx",
                "acme.test",
                (
                    Finding(Severity.FAIL, "old-mx", "the old MX is still listed", "remove it"),
                    Finding(Severity.WARN, "ttl", "long TTL", "lower it"),
                ),
            ),
            CheckResult("dkim", "acme.test", error="timeout"),
            CheckResult("spf", "acme.test", (Finding(Severity.WARN, "x", "warn only", "fix"),)),
        )
    )
    report = VerificationReport(
        customer="Acme",
        checked_at=datetime(2026, 11, 27, tzinfo=UTC),
        followup=False,
        accounts=(AccountCheck("ann@acme.test", True, 3), AccountCheck("bo@acme.test", False)),
        probes=(ProbeResult("acme.test", "ann@acme.test", "t1", False, error="no mail"),),
        dns=dns,
    )
    assert [(i["area"], i["subject"], i["problem"], i["fix"]) for i in report.issues] == [
        (
            "login",
            "bo@acme.test",
            "login failed",
            "check the account and its password in the control panel",
        ),
        (
            "mail flow",
            "acme.test",
            "no mail",
            "check the domain's routing and hold in the control panel and the gateway's queue",
        ),
        ("dns mx", "acme.test", "the old MX is still listed", "remove it"),
        ("dns dkim", "acme.test", "timeout", ""),
    ]


def test_an_undelivered_alias_is_an_issue_and_aliases_are_counted() -> None:
    """Each alias whose probe did not arrive is one open issue naming the alias; the summary
    counts delivered aliases; a customer without aliases has no alias part at all."""
    base = VerificationReport(
        customer="Acme",
        checked_at=datetime(2026, 11, 27, tzinfo=UTC),
        followup=False,
        accounts=(AccountCheck("ann@acme.test", True, 0),),
        probes=(ProbeResult("acme.test", "ann@acme.test", "t1", True, seconds=0.4),),
        dns=None,
    )
    assert "aliases" not in base.summary and "## Aliases" not in base.markdown()
    report = dataclasses.replace(
        base,
        alias_probes=(
            ProbeResult("acme.test", "sales@acme.test", "t2", True, seconds=0.5),
            ProbeResult("acme.test", "info@acme.test", "t3", False, error="not in ann's INBOX"),
        ),
    )
    assert [(i["area"], i["subject"], i["problem"]) for i in report.issues] == [
        ("alias", "info@acme.test", "not in ann's INBOX")
    ]
    assert "1/2 aliases" in report.summary and "1 open issue(s)" in report.summary
    assert "| info@acme.test | no |" in report.markdown()
    assert [a["recipient"] for a in report.to_dict()["aliases"]] == [
        "sales@acme.test",
        "info@acme.test",
    ]
