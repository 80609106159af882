"""Runbook phases 2 and 3, "run the IMAP sync": copy every user's old mailbox into the new one.

Triggered by an operator after the mailboxes exist (``onboard migrate SPEC --pass initial``),
again as delta passes while the customer changes DNS (``--pass incremental``), and once more
with delivery held during the cutover (``--pass final``). Every pass copies only what is
missing, so re-running after a failure or a crash redoes nothing twice.

Steps: read the spec and the validated user list; make sure the concurrency limits exist (the
source server's connection cap, one sync per mailbox pair); sync each mailbox pair in its own
task (bounded parallelism, retries for transient failures) while a progress artifact counts
finished mailboxes; publish the failed-transfers table and the summary, and write them to the
run folder. The run ends Failed when any mailbox or message failed after retries.

It does not create mailboxes (``provision`` does), change DNS or routing, or delete anything
on either server. ``dry_run`` prints the plan and writes nothing: no state, files or artifacts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.futures import PrefectFuture, as_completed
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from onboarding.mailsync import MailboxOutcome, SyncPlan
from onboarding.mailsync.models import PassKind
from onboarding.reports import RunFolder
from tasks.migrate import (
    BOARD,
    MailboxDone,
    MailboxJob,
    build_jobs,
    ensure_concurrency_limits,
    plan_mailbox,
    retry_policy,
    select_users,
    sync_mailbox_task,
    validated_users,
)
from tasks.migrate_report import (
    FAILED_COLUMNS,
    MAILBOX_COLUMNS,
    MailboxResult,
    MigrationReport,
    build_report,
)
from validation.spec import OnboardingSpec, load_spec
from validation.users import read_user_credentials

__all__ = ["migrate", "plan_migration"]


@flow(name="migrate", log_prints=False)
def migrate(
    spec_path: Path,
    pass_kind: PassKind = "initial",
    users: list[str] | None = None,
    dry_run: bool = False,
) -> State[Any]:
    """Sync the selected users' mailboxes (all when ``users`` is None); see the module doc."""
    spec = load_spec(spec_path)
    selected = select_users(validated_users(spec), users)
    if dry_run:
        plans = plan_migration(spec_path, pass_kind, users)
        get_run_logger().info("dry run: %d mailbox(es) planned, nothing written", len(plans))
        return Completed(name="DryRun", data=[p.mailbox for p in plans])
    jobs = build_jobs(spec, selected)
    ensure_concurrency_limits(jobs, spec.migration.connections_per_source_host)
    results = _sync_all(spec, Path(spec_path), jobs, pass_kind)
    report = build_report(spec.customer_slug, pass_kind, results)
    folder = _publish(spec, report)
    data = {**report.as_json(), "run_folder": str(folder.path)}
    if not report.ok:
        return Failed(message=f"migration has problems: {report.equation}", data=data)
    if report.totals["copied"] == 0 and report.totals["flags_updated"] == 0:
        return Completed(name="NothingToSync", message=report.equation, data=data)
    return Completed(message=report.equation, data=data)


def plan_migration(
    spec_path: Path, pass_kind: PassKind = "initial", users: Sequence[str] | None = None
) -> list[SyncPlan]:
    """The dry run (also callable without Prefect): one engine plan per selected mailbox."""
    spec = load_spec(spec_path)
    selected = select_users(read_user_credentials(spec), users)
    return [plan_mailbox(spec, user, pass_kind) for user in selected]


def _sync_all(
    spec: OnboardingSpec, spec_path: Path, jobs: Sequence[MailboxJob], pass_kind: PassKind
) -> list[MailboxResult]:
    """Run one task per job, at most ``parallel_mailboxes`` at once, counting progress."""
    m = spec.migration
    sync = sync_mailbox_task.with_options(**retry_policy(m.task_retries, m.retry_backoff_seconds))
    key = f"migration-progress-{spec.customer_slug}"
    artifact = cast(
        UUID, create_progress_artifact(0.0, key=key, description=f"0/{len(jobs)} mailboxes")
    )
    done: dict[str, MailboxResult] = {}
    copied = bytes_copied = 0
    runner: ThreadPoolTaskRunner[MailboxOutcome] = ThreadPoolTaskRunner(m.parallel_mailboxes)
    with runner:
        futures: dict[PrefectFuture[MailboxOutcome], MailboxJob] = {
            runner.submit(sync, {"job": job, "spec_path": spec_path, "pass_kind": pass_kind}): job
            for job in jobs
        }
        for future in as_completed(list(futures)):
            result = _result_of(futures[future], future)
            done[result.mailbox] = result
            if result.outcome is not None:
                copied += result.outcome.copied
                bytes_copied += result.outcome.bytes_copied
            BOARD.publish(
                MailboxDone(
                    result.mailbox, result.outcome, str(result.error) if result.error else None
                )
            )
            update_progress_artifact(
                artifact,
                100.0 * len(done) / len(jobs),
                description=(
                    f"{len(done)}/{len(jobs)} mailboxes, {copied:,} messages, "
                    f"{bytes_copied / 1e6:,.1f} MB copied"
                ),
            )
    return [done[job.mailbox] for job in jobs]


def _result_of(job: MailboxJob, future: PrefectFuture[MailboxOutcome]) -> MailboxResult:
    """The task's outcome, or its last exception and how many attempts it took."""
    future.wait()
    state = future.state
    attempts = _attempts(future.task_run_id)
    value = state.result(raise_on_failure=False)
    if state.is_completed() and isinstance(value, MailboxOutcome):
        return MailboxResult(job.mailbox, outcome=value, attempts=attempts)
    error = value if isinstance(value, BaseException) else RuntimeError(state.message or "failed")
    return MailboxResult(job.mailbox, error=error, attempts=attempts)


def _attempts(task_run_id: UUID, timeout: float = 10.0) -> int:
    """How often the task ran. Prefect 3 creates task runs on the client and the API records
    them from events a moment later (tens of ms, more under load), so wait, bounded, until
    the API has the run in a final state."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            try:
                run = client.read_task_run(task_run_id)
            except ObjectNotFound:
                run = None
            final = run is not None and run.state is not None and run.state.is_final()
            if final or time.monotonic() > deadline:
                return max(1, run.run_count if run is not None else 1)
            time.sleep(0.1)  # polling the API until the event has been recorded, with a deadline


def _publish(spec: OnboardingSpec, report: MigrationReport) -> RunFolder:
    """The failed-transfers table, the summary, and the same in the run folder."""
    slug = spec.customer_slug
    create_table_artifact(
        {c: [row.get(c, "") for row in report.failed_transfers] for c in FAILED_COLUMNS},
        key=f"failed-transfers-{slug}",
        description=f"{len(report.failed_transfers)} failed or skipped item(s), {report.pass_kind}",
    )
    create_markdown_artifact(report.markdown(), key=f"migration-summary-{slug}")
    folder = RunFolder.create(spec.output_dir, slug, "migrate")
    folder.write_text("summary.md", report.markdown())
    folder.write_csv("mailboxes.csv", report.mailboxes, MAILBOX_COLUMNS)
    folder.write_csv("failed-transfers.csv", report.failed_transfers, FAILED_COLUMNS)
    folder.write_json("report.json", report.as_json())
    return folder
