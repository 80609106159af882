"""DNS engine: the records a customer publishes, MX TTL, propagation, SPF/DKIM/DMARC checks.

Modules, one per area: :mod:`.query` (explicit-server queries), :mod:`.mx`, :mod:`.spf`,
:mod:`.dkim`, :mod:`.dmarc`, :mod:`.propagation`, :mod:`.plan`, :mod:`.render`,
:mod:`.zonefile`, :mod:`.checks`; :mod:`.inputs` holds what the callers tell the engine about a
customer (plain values, never the spec model). No Prefect here; no system resolver anywhere.
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
from onboarding.dnscheck.inputs import (
    DNSInputs,
    DNSServers,
    DomainInput,
    HostedRecords,
    RecordOptions,
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
    "DNSInputs",
    "DNSPlan",
    "DNSServers",
    "DNSTimeoutError",
    "DomainInput",
    "DomainPlan",
    "Finding",
    "HostedRecords",
    "NoNameserversError",
    "NotAuthoritativeError",
    "PropagationReport",
    "PropagationSummary",
    "RecordOptions",
    "ServerFailureError",
    "Severity",
    "build_plan",
    "expected_for",
    "render_markdown",
    "render_zone_snippet",
    "run_checks",
    "run_propagation",
]
