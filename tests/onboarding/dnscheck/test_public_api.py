"""The public surface of onboarding.dnscheck is exactly ``__all__`` (STYLE rule 12)."""

from __future__ import annotations

from support.public_api import exported_names

import onboarding.dnscheck as pkg
from onboarding.dnscheck.results import CheckResult, Finding, Severity


def test_all_matches_public_names() -> None:
    """The package exports exactly its ``__all__``."""
    assert exported_names(pkg) == set(pkg.__all__)


def test_check_result_shape_for_success_and_failure() -> None:
    """A CheckResult has one shape: pass and warn are valid (warnings listed), an error is a failed,
    invalid result that keeps its error text."""
    ok = CheckResult("mx", "a.test", (Finding(Severity.PASS, "ok", "fine"),))
    warn = CheckResult("spf", "a.test", (Finding(Severity.WARN, "void-lookups", "w"),))
    broken = CheckResult("dkim", "a.test", error="timeout")
    assert (ok.status, ok.valid, ok.warnings) == (Severity.PASS, True, ())
    assert (warn.status, warn.valid, warn.warnings) == (Severity.WARN, True, ("w",))
    assert (broken.status, broken.valid) == (Severity.FAIL, False)
    assert broken.to_dict()["error"] == "timeout"
