"""Check results: one shape for success and failure (STYLE rule 7, checkdmarc's vocabulary).

A :class:`CheckResult` holds the findings of one check on one domain. ``status`` is the worst
finding (``fail`` when the check could not run at all, ``error`` set), ``valid`` is
``status != fail`` and ``warnings`` lists the warning messages::

    CheckResult(check="spf", domain="acme.test", findings=(Finding(Severity.FAIL,
        "plus-all", "acme.test: SPF ends in +all, so any host passes (RFC 7208 §5.1)",
        fix="end the record with ~all or -all"),), record="v=spf1 +all")
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from onboarding.reports import report_row

__all__ = ["CheckResult", "Finding", "Severity", "findings_or_ok", "worst"]


class Severity(StrEnum):
    """How bad a finding is, in increasing order."""

    PASS = "pass"
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


def worst(severities: list[Severity] | tuple[Severity, ...]) -> Severity:
    """Return the most severe of ``severities`` (``pass`` for none)."""
    return max(severities, key=lambda s: s.rank, default=Severity.PASS)


@report_row
@dataclass(frozen=True)
class Finding:
    """One observation: what is wrong (or right), the rule, and the fix."""

    severity: Severity
    code: str
    message: str
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"severity": str(self.severity)}


def findings_or_ok(findings: list[Finding], message: str) -> tuple[Finding, ...]:
    """Return ``findings``, or for a check that found nothing one ``ok`` PASS saying ``message``."""
    return tuple(findings) or (Finding(Severity.PASS, "ok", message),)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check (``mx``, ``spf``, ``dkim``, ``dmarc``, ...) on one domain."""

    check: str
    domain: str
    findings: tuple[Finding, ...] = ()
    record: str | None = None
    error: str | None = None

    @property
    def status(self) -> Severity:
        if self.error is not None:
            return Severity.FAIL
        return worst(tuple(f.severity for f in self.findings))

    @property
    def valid(self) -> bool:
        return self.status is not Severity.FAIL

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(f.message for f in self.findings if f.severity is Severity.WARN)

    def codes(self) -> tuple[str, ...]:
        """Return the finding codes, for tests and filters."""
        return tuple(f.code for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "domain": self.domain,
            "status": str(self.status),
            "valid": self.valid,
            "record": self.record,
            "error": self.error,
            "findings": [f.to_dict() for f in self.findings],
        }
