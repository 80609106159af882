"""Runbook phases 1-2 in the control panel: customer, domains, routing, then the mailboxes.

Triggered by an operator once the user list validates (``onboard provision SPEC``). Steps:
check the API key; create the customer and each domain if absent and route each domain to
the customer's current mail servers (``mail_servers``, ``delivery_port``); then either create
every validated user's mailbox with their password, prove each logs in to the hosted IMAP and
give each mailbox the aliases the user list names, or (``accounts: self_service``) hand the
users instructions and create neither mailboxes nor aliases. The report
(``provisioning-<slug>`` table, summary, CSVs in the run folder) says what each object ended as.

Re-running creates only what is missing. It never changes or deletes what exists: something
that exists with other settings is a conflict with the action to take. It does not hold or
release delivery, switch routing to the hosted mailboxes (cutover does), or copy mail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State

from onboarding.controlpanel import (
    AccountsReport,
    AliasesReport,
    ControlPanelError,
    Outcome,
    SetupResult,
    setup_rows,
)
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
from validation.spec import AccountMode, load_spec

__all__ = ["provision"]


def _summary(
    setup: SetupResult,
    accounts: AccountsReport | None,
    aliases: AliasesReport | None,
    folder: Path,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_folder": str(folder),
        "setup": setup_rows(setup),
        "conflicts": len(setup.conflicts),
    }
    if accounts is not None:
        data["accounts"] = {
            "total": len(accounts.accounts),
            **accounts.counts,
            "logins_ok": accounts.logins_ok,
            "logins_failed": accounts.logins_failed,
            "reconciles": accounts.reconciles,
            "http_requests": accounts.requests,
        }
        data["failed"] = [{"email": a.email, "reason": a.reason} for a in accounts.failed]
    if aliases is not None:
        data["aliases"] = {
            "total": len(aliases.aliases),
            **aliases.counts,
            "reconciles": aliases.reconciles,
            "http_requests": aliases.requests,
        }
        data["alias_problems"] = [
            {
                "alias": a.alias,
                "account": a.account,
                "result": a.outcome.value,
                "reason": a.reason,
                "action": a.action,
            }
            for a in aliases.conflicts + aliases.failed
        ]
    return data


@flow(name="provision", log_prints=False)
def provision(spec_path: Path) -> State[Any]:
    """Create what the customer needs in the control panel; see the module docstring."""
    spec = load_spec(spec_path)
    try:
        check_access(spec_path)
    except ControlPanelError as exc:
        return Failed(message=f"stopped before any change: {exc}", data={"stopped": str(exc)})
    setup = set_up(spec_path)
    folder = new_run_folder(spec)
    accounts: AccountsReport | None = None
    aliases: AliasesReport | None = None
    if spec.accounts is AccountMode.SELF_SERVICE:
        write_self_service(spec_path, folder)
    else:
        accounts = prove_logins(spec_path, provision_mailboxes(spec_path, setup))
        aliases = provision_mailbox_aliases(spec_path, setup, accounts)
    publish_report(spec_path, folder, setup, accounts, aliases)
    data = _summary(setup, accounts, aliases, folder)
    problems = []
    if setup.conflicts:
        problems.append(f"{len(setup.conflicts)} conflict(s) in customer/domains/routing")
    if accounts is not None:
        failed = accounts.counts[Outcome.FAILED.value]
        if failed:
            problems.append(f"{failed} of {len(accounts.accounts)} account(s) failed")
        if accounts.logins_failed:
            problems.append(f"{accounts.logins_failed} account(s) could not log in")
    if aliases is not None:
        a = aliases.counts
        if a[Outcome.CONFLICT.value]:
            problems.append(f"{a[Outcome.CONFLICT.value]} alias conflict(s)")
        if a[Outcome.FAILED.value]:
            problems.append(f"{a[Outcome.FAILED.value]} of {len(aliases.aliases)} alias(es) failed")
    if problems:
        message = "; ".join(problems) + f" (see provisioning-{spec.customer_slug})"
        get_run_logger().error(message)
        return Failed(message=message, data=data)
    if accounts is None:
        return Completed(name="SelfService", message="self-service instructions written", data=data)
    c = accounts.counts
    a = aliases.counts if aliases is not None else {o.value: 0 for o in Outcome}
    created = c[Outcome.CREATED.value] + a[Outcome.CREATED.value]
    nothing_new = not setup.writes_needed and created == 0
    return Completed(
        name="NothingToCreate" if nothing_new else "Completed",
        message=f"{c[Outcome.CREATED.value]} created, {c[Outcome.EXISTED.value]} already "
        f"existed, {accounts.logins_ok} logins proven; aliases: {a[Outcome.CREATED.value]} "
        f"created, {a[Outcome.EXISTED.value]} already existed",
        data=data,
    )
