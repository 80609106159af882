"""Runbook phase 4, post-cutover verification: does everything work for the customer?

Triggered at the end of ``onboard run``, by an operator (``onboard verify SPEC``), and
``followup.after_hours`` after the cutover (the ``verify/follow-up`` deployment, scheduled by
the cutover). Steps: every account logs in to the hosted IMAP (with its INBOX count); a
tagged probe per domain travels through the gateway into a hosted mailbox, and one per alias
into its owner's mailbox; the DNS checks (MX only ours, SPF, DKIM, DMARC). The
``verification-<customer>`` report lists every open issue; the run ends Failed when there
is one.

It changes nothing: no routing, no hold, no DNS. Probe messages are removed once found.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State

from onboarding import OnboardingError
from onboarding.cutover import VerificationReport
from tasks.dns import check_dns
from tasks.verify import (
    check_account_logins,
    probe_aliases,
    probe_mail_flow,
    publish_verification,
)
from validation.spec import load_spec

__all__ = ["verify"]


@flow(name="verify", log_prints=False)
def verify(spec_path: Path, followup: bool = False) -> State[Any]:
    """Verify the customer in ``spec_path`` after the cutover; ``followup`` labels the re-check."""
    spec = load_spec(spec_path)
    accounts = check_account_logins(spec_path)
    probes = probe_mail_flow(spec_path)
    aliases = probe_aliases(spec_path)
    dns_error = None
    try:
        dns = check_dns(spec)
    except OnboardingError as exc:  # the report still lists logins and mail flow
        dns, dns_error = None, f"the DNS checks could not run: {exc}"
    report = VerificationReport(
        spec.customer, datetime.now(UTC), followup, accounts, probes, dns, dns_error, aliases
    )
    folder = publish_verification(spec, report)
    data = report.to_dict() | {"run_folder": str(folder)}
    get_run_logger().info("%s; report in %s", report.summary, folder)
    if report.issues:
        return Failed(name="OpenIssues", message=report.summary, data=data)
    return Completed(message=report.summary, data=data)
