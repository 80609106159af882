"""Runbook phase 2, "verify source server access" and "approximate mailbox sizes and counts".

Triggered by an operator after the mailboxes exist (``onboard preflight SPEC``, the
``preflight/check-source-access`` deployment) and by ``onboard run`` before the initial sync,
which stops when a user fails. Steps: load the customer once; make sure the source servers'
connection caps exist (the same limits ``migrate`` uses); survey every selected user at once
within those caps (both logins, capabilities, folders, messages, bytes, the largest message
against the destination's size limit, the mailbox against the free quota, a timed read of the
newest mail for an estimated duration); publish the ``preflight-<slug>`` table and the run
folder's CSV. The run ends Failed, naming every such user, when any user cannot be migrated.

It never stops at the first bad login, and writes nothing to either mail server or the sync
state (folders are EXAMINEd, bodies read with BODY.PEEK[]).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import State

from flows.results import PreflightResult, end
from flows.run_names import run_name
from tasks.adapters import mailbox_jobs, source_connections
from tasks.customer import load_customer
from tasks.migrate import ensure_concurrency_limits
from tasks.preflight import preflight_all, publish_preflight
from validation.users import select_users

__all__ = ["preflight"]


@flow(name="preflight", flow_run_name=run_name("preflight"), log_prints=False)
def preflight(spec_path: Path, users: list[str] | None = None) -> State[Any]:
    """Survey the selected users; see the module docstring.

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
        users: Only these addresses (all users when empty).
    """
    customer = load_customer(spec_path)
    spec = customer.spec
    jobs = mailbox_jobs(spec, select_users(customer.users, users, path=spec.users_csv))
    ensure_concurrency_limits(jobs, source_connections(spec))
    rows = preflight_all(spec, jobs)
    m = spec.migration
    parallel = min(m.parallel_mailboxes, source_connections(spec))
    draft = PreflightResult.of(spec.customer, rows, parallel, "").warned(spec.warnings)
    folder = publish_preflight(spec, rows, draft.message)
    return end(PreflightResult.of(spec.customer, rows, parallel, folder).warned(spec.warnings))
