"""Runbook phase 4, post-cutover verification: does everything work for the customer?

Triggered at the end of ``onboard run``, by an operator (``onboard verify SPEC``), and
``followup.after_hours`` after the cutover (the ``verify/follow-up`` deployment, scheduled by
the cutover). Steps: every account logs in to the hosted IMAP (with its INBOX count); a
tagged probe per domain travels through the gateway into a hosted mailbox, and one per alias
into its owner's mailbox; the DNS checks (MX only ours, SPF, DKIM, DMARC); Thunderbird's
and Outlook's automatic set-up lookups by the published names. The ``verification-<customer>``
report lists every open issue; the run ends Failed when there is one. The follow-up of a
migrated customer also says what the catch-up passes scheduled by the cutover brought from
the old server since the switch (or that none has run yet). Last, the customer's own report
(``onboarding-report-<customer>``: what was done per domain and user, what was not and why,
open issues, the follow-up date, support contacts) from the phases' run folders.

It changes nothing: no routing, no hold, no DNS. Probe messages are removed once found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import State

from flows.results import VerifyResult, end
from flows.run_names import run_name
from tasks.customer import load_customer
from tasks.customer_report import publish_customer_report
from tasks.dns import check_dns_outcome
from tasks.verify import (
    check_account_logins,
    check_client_setup,
    probe_aliases,
    probe_mail_flow,
    publish_verification,
)

__all__ = ["verify"]


@flow(
    name="verify",
    flow_run_name=run_name(lambda p: "follow-up verify" if p.get("followup") else "verify"),
    log_prints=False,
)
def verify(spec_path: Path, followup: bool = False) -> State[Any]:
    """Verify the customer in ``spec_path`` after the cutover.

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
        followup: This is the scheduled re-check after the cutover (labels the report).
    """
    customer = load_customer(spec_path)
    spec = customer.spec
    accounts = check_account_logins(spec)
    probes = probe_mail_flow(spec)
    aliases = probe_aliases(spec)
    dns = check_dns_outcome(spec)
    clients = check_client_setup(spec, customer.users)
    report, folder = publish_verification(spec, followup, accounts, probes, aliases, dns, clients)
    customer_report = publish_customer_report(spec, folder)
    return end(
        VerifyResult.of(report, folder, customer_report),
        name=None if report.ok else "OpenIssues",
    )
