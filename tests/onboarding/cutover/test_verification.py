"""Verification open issues: every failure is one row naming the area, subject and fix."""

from __future__ import annotations

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
