"""DNS engine: the records a customer publishes, MX TTL, propagation, SPF/DKIM/DMARC checks.

Modules, one per area: :mod:`.query` (explicit-server queries), :mod:`.mx`, :mod:`.spf`,
:mod:`.dkim`, :mod:`.dmarc`, :mod:`.propagation`, :mod:`.plan`, :mod:`.render`,
:mod:`.zonefile`, :mod:`.checks`. No Prefect here; no system resolver anywhere.
"""

from onboarding.dnscheck._exceptions import (
    DKIMKeyError,
    DNSCheckError,
    DNSTimeoutError,
    NoNameserversError,
    NotAuthoritativeError,
    ServerFailureError,
)
from onboarding.dnscheck.checks import (
    CheckReport,
    PropagationSummary,
    expected_for,
    run_checks,
    run_propagation,
)
from onboarding.dnscheck.plan import DNSPlan, DomainPlan, build_plan
from onboarding.dnscheck.propagation import PropagationReport
from onboarding.dnscheck.render import render_markdown, render_zone_snippet
from onboarding.dnscheck.results import CheckResult, Finding, Severity

__all__ = [
    "CheckReport",
    "CheckResult",
    "DKIMKeyError",
    "DNSCheckError",
    "DNSPlan",
    "DNSTimeoutError",
    "DomainPlan",
    "Finding",
    "NoNameserversError",
    "NotAuthoritativeError",
    "PropagationReport",
    "PropagationSummary",
    "ServerFailureError",
    "Severity",
    "build_plan",
    "expected_for",
    "render_markdown",
    "render_zone_snippet",
    "run_checks",
    "run_propagation",
]
