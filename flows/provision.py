"""Runbook phases 1-2 in the control panel: customer, domains, routing, then the mailboxes.

Triggered by an operator once the user list validates (``onboard provision SPEC``). Steps:
check the API key; create the customer and each domain if absent and route each domain to
the customer's current mail servers (``mail_servers``, ``delivery_port``; a new domain without
them is routed to the hosted mailboxes, ``hosted.delivery_host``, from the start); then either
create every validated user's mailbox with their password, prove each logs in to the hosted IMAP and
give each mailbox the aliases the user list names, or (``accounts: self_service``) hand the
users instructions and create neither mailboxes nor aliases. The report
(``provisioning-<slug>`` table, summary, CSVs in the run folder) says what each object ended as.

Re-running creates only what is missing. It never changes or deletes what exists: something
that exists with other settings is a conflict with the action to take. It does not hold or
release delivery, switch an existing domain's routing to the hosted mailboxes (cutover does),
or copy mail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import State

from flows.results import ProvisionResult, end
from flows.run_names import run_name
from onboarding.controlpanel import ControlPanelError, ProvisioningReport
from tasks.customer import load_customer
from tasks.provision import (
    check_access,
    new_run_folder,
    prove_logins,
    provision_mailbox_aliases,
    provision_mailboxes,
    publish_report,
    set_up,
    write_self_service,
)
from validation.spec import AccountMode

__all__ = ["provision"]


@flow(name="provision", flow_run_name=run_name("provision"), log_prints=False)
def provision(spec_path: Path) -> State[Any]:
    """Create what the customer needs in the control panel; see the module docstring.

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
    """
    customer = load_customer(spec_path)
    spec = customer.spec
    try:
        check_access(spec)
    except ControlPanelError as exc:
        return end(ProvisionResult.stopped_by(exc))
    setup = set_up(spec)
    folder = new_run_folder(spec)
    if spec.accounts is AccountMode.SELF_SERVICE:
        write_self_service(spec, customer.users, folder)
        report = ProvisioningReport(spec.customer_slug, setup)
    else:
        accounts = prove_logins(spec, provision_mailboxes(spec, setup))
        aliases = provision_mailbox_aliases(spec, customer.users, setup, accounts)
        report = ProvisioningReport(spec.customer_slug, setup, accounts, aliases)
    publish_report(spec, folder, report)
    return end(ProvisionResult.of(report, folder), name=report.ending)
