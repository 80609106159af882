"""Runbook phase 2, "run the IMAP sync", for one batch of a big customer's mailboxes.

Triggered only by a ``migrate`` run that spreads a customer over the work pool (more mailboxes
than ``migration.batch_size``): it starts one run of the ``migrate-batch`` deployment per batch
of users, on whichever worker picks it up. A batch run syncs its users exactly as ``migrate``
does in one process: the same Prefect global concurrency limits (so the per-source-host cap
holds across every worker), the same state store (``migration.state_url``: Postgres when
workers run on several machines), so a batch re-run after its worker died copies only what is
still missing.

Steps: load the customer once (spec, validated users, passwords kept in the run's vault); sync
the batch's mailbox pairs; return their outcomes in a persisted result the parent reads.

It does not publish the failed-transfers table, the summary or the run folder (the parent
``migrate`` run builds one report from every batch), create concurrency limits (the parent
did) or approve anything.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import State

from flows.results import MigrateBatchResult, end
from flows.run_names import run_name
from onboarding.mailsync.models import PassKind
from tasks.adapters import DateWindow, mailbox_jobs
from tasks.customer import load_customer
from tasks.migrate import load_review, progress_key_of, sync_all
from validation.users import select_users

__all__ = ["migrate_batch"]


@flow(
    name="migrate-batch",
    flow_run_name=run_name("migrate {pass_kind} batch {batch}"),
    log_prints=False,
    persist_result=True,
)
def migrate_batch(
    spec_path: Path,
    users: list[str],
    pass_kind: PassKind = "initial",
    batch: int = 1,
    since: date | None = None,
    before: date | None = None,
) -> State[Any]:
    """Sync one batch of a customer's mailboxes for its parent ``migrate`` run.

    Args:
        spec_path: the customer's spec (customer.yaml) on the worker.
        users: the batch's email addresses (the parent splits the user list).
        pass_kind: initial, incremental or final, as the parent's pass.
        batch: the batch's number, for the run's name and the parent's report.
        since: copy only mail dated on or after this day (the parent's window).
        before: copy only mail dated before this day (the parent's window).
    """
    customer = load_customer(spec_path)
    spec = customer.spec
    jobs = mailbox_jobs(spec, select_users(customer.users, users, path=spec.users_csv))
    window = DateWindow(since, before) if since or before else None
    approvals, _latest = load_review(spec)
    key = f"{progress_key_of(spec)}-batch-{batch}"
    results = sync_all(spec, jobs, pass_kind, window=window, approvals=approvals, progress_key=key)
    return end(MigrateBatchResult.of(spec.customer_slug, pass_kind, batch, results))
