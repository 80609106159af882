"""Runbook phases 2 and 3, "run the IMAP sync": copy every user's old mailbox into the new one.

Triggered by an operator after the mailboxes exist (``onboard migrate SPEC --pass initial``),
again as delta passes while the customer changes DNS (``--pass incremental``), and once more
with delivery held during the cutover (``--pass final``). Every pass copies only what is
missing, so re-running after a failure or a crash redoes nothing twice.

Steps: load the customer once (spec, validated users, passwords kept in the run's vault); take
the customer's migrate slot (``customer-<slug>-migrate``: a second pass for the same customer
is refused at once, naming the run that holds it; other customers run meanwhile); make
sure the concurrency limits exist (the
source server's connection cap, one sync per mailbox pair); sync each mailbox pair in its own
task (bounded parallelism, retries for transient failures) while a progress artifact counts
finished mailboxes — or, for a deployment run of more than ``migration.batch_size``
mailboxes, hand each batch to a ``migrate-batch`` child flow run on any worker of the pool
(``tasks.batches``; a batch whose worker died runs again); publish the failed-transfers
table and the summary, and write them to the run folder; after a successful initial pass,
create (or update) the customer's nightly incremental schedule on
``migrate/nightly-incremental`` (:mod:`tasks.schedules`; the cutover removes it). The run ends
Failed when a mailbox fails the bad-item policy: it failed as a whole, a folder is in error,
or it has more new failed or skipped items than ``migration.bad_item_limit`` (items an
operator approved do not count; ``approve_failed`` approves the ones the customer's latest
table lists before the pass starts).

``since`` / ``before`` limit this run to mail of those days (pre-staging the newest mail
first); the final pass always keeps the spec's own window.

It does not create mailboxes (``provision`` does), change DNS or routing, or delete anything
on either server. ``dry_run`` prints the plan and writes nothing: no state, files or artifacts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import State

from flows.customer_runs import one_at_a_time
from flows.results import BatchRow, MigrateResult, MigrationPlanResult, end
from flows.run_names import run_name
from onboarding.mailsync.models import PassKind
from onboarding.mailsync.progress import watching as watch_progress
from tasks.adapters import DateWindow, MailboxJob, mailbox_jobs, source_connections
from tasks.batches import batched, migrate_in_batches
from tasks.customer import load_customer
from tasks.migrate import (
    approve_known,
    ensure_concurrency_limits,
    load_review,
    plan_mailboxes,
    publish_migration,
    sync_all,
)
from tasks.schedules import schedule_nightly
from tasks.slots import SlotWait
from validation.spec import OnboardingSpec
from validation.users import select_users

__all__ = ["SlotWait", "migrate", "watch_progress"]


@flow(name="migrate", flow_run_name=run_name("migrate {pass_kind}"), log_prints=False)
def migrate(
    spec_path: Path,
    pass_kind: PassKind = "initial",
    users: list[str] | None = None,
    dry_run: bool = False,
    since: date | None = None,
    before: date | None = None,
    approve_failed: bool = False,
) -> State[Any]:
    """Sync the selected users' mailboxes; see the module doc.

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
        pass_kind: initial (first full copy), incremental (delta) or final (during cutover).
        users: Only these addresses (all users when empty).
        dry_run: Print the plan and write nothing.
        since: Only mail of this day or later (pre-staging the newest mail first).
        before: Only mail before this day.
        approve_failed: Approve the failed items the latest table lists before the pass.
    """
    customer = load_customer(spec_path)
    spec = customer.spec
    selected = select_users(customer.users, users, path=spec.users_csv)
    jobs = mailbox_jobs(spec, selected)
    window = DateWindow(since, before) if since or before else None
    if dry_run:
        plans = plan_mailboxes(spec, jobs, pass_kind)
        get_run_logger().info("dry run: %d mailbox(es) planned, nothing written", len(plans))
        return end(MigrationPlanResult.of(plans, pass_kind), name="DryRun")
    return one_at_a_time(  # one pass per customer at a time; other customers run meanwhile
        spec, "migrate", lambda: _sync(spec, spec_path, jobs, pass_kind, window, approve_failed)
    )


def _sync(
    spec: OnboardingSpec,
    spec_path: Path,
    jobs: tuple[MailboxJob, ...],
    pass_kind: PassKind,
    window: DateWindow | None,
    approve_failed: bool,
) -> State[Any]:
    if approve_failed:
        approve_known(spec, [j.mailbox for j in jobs], "approved with --approve-failed")
    approvals, _latest = load_review(spec)
    ensure_concurrency_limits(jobs, source_connections(spec))
    batches: list[BatchRow] = []
    if batched(spec, jobs):
        results, batches = migrate_in_batches(spec, spec_path, jobs, pass_kind, window=window)
    else:
        results = sync_all(spec, jobs, pass_kind, window=window, approvals=approvals)
    report, folder, table = publish_migration(spec, results, pass_kind, approvals)
    result = MigrateResult.of(report, folder, table, batches).warned(spec.warnings)
    if result.ok and pass_kind == "initial":  # nightly passes from now until the cutover
        result = result.model_copy(update={"nightly_schedule": schedule_nightly(spec, spec_path)})
    nothing = report.totals["copied"] == 0 and report.totals["flags_updated"] == 0
    return end(result, name="NothingToSync" if result.ok and nothing else None)
