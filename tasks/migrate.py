"""Tasks of the ``migrate`` flow: one Prefect task run per mailbox pair, passwords from the vault.

The flow only ever hands tasks the spec and :class:`~tasks.adapters.MailboxJob` (addresses,
hosts, ports: nothing secret). The sync task takes the pair's passwords from the flow run's
vault (:mod:`tasks.vault`), builds the engine's pair with the adapters, takes the Prefect
global concurrency slots (the source host's connection cap and the pair's own limit of 1, so
a second worker never syncs the same pair at once, I10), calls the engine, and returns its
outcome. It persists no result and has no cache key, so no password reaches Prefect.

Transient engine errors (``MailSyncError.transient``) are retried by Prefect with exponential
backoff and jitter; anything else (a wrong password, a folder that cannot be mapped) fails the
task at once with the engine's fix in the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from prefect import Task, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import TaskRun
from prefect.exceptions import ObjectAlreadyExists
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import task_run
from prefect.settings import PREFECT_UI_URL
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from onboarding.mailsync import MailboxOutcome, StateStore, SyncPlan, plan, sync_mailbox
from onboarding.mailsync.models import PassKind
from onboarding.mailsync.progress import (
    MailboxAttempt,
    MailboxDone,
    PassStarted,
    publish,
    watching,
)
from onboarding.mailsync.report import (
    DEFERRED_CLASSES,
    FAILED_COLUMNS,
    MAILBOX_COLUMNS,
    MailboxResult,
    MigrationReport,
    build_report,
    human_size,
    table_rows,
)
from onboarding.mailsync.review import (
    Approvals,
    LatestTable,
    load_approvals,
    load_latest,
    save_approvals,
    save_latest,
)
from onboarding.reports import RunFolder, private_dir
from tasks.adapters import (
    DateWindow,
    MailboxJob,
    mailbox_pair,
    require_source_tokens,
    state_url,
    sync_options,
)
from tasks.pacing import run_host_rates
from tasks.slots import SlotWait, slots, stopping_gives_slots_back
from tasks.vault import current_vault
from validation.spec import OnboardingSpec

__all__ = [
    "Tally",
    "approve_known",
    "customer_folder",
    "ensure_concurrency_limits",
    "is_transient",
    "load_review",
    "plan_mailboxes",
    "progress_key_of",
    "publish_migration",
    "retry_policy",
    "sync_all",
    "sync_mailbox_task",
]

# Slot leases are renewed while a sync runs; a killed worker's slots free after this long.
_LEASE_SECONDS = 60.0


def is_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only errors the engine marks transient (network, throttling, a held lease)."""
    try:
        state.result()
    except Exception as exc:
        return bool(getattr(exc, "transient", False))
    return False


def retry_policy(retries: int, backoff_seconds: float) -> dict[str, Any]:
    """Task options: exponential backoff with jitter, transient errors only."""
    return {
        "retries": retries,
        "retry_delay_seconds": exponential_backoff(backoff_factor=backoff_seconds),
        "retry_jitter_factor": 0.5,
        "retry_condition_fn": is_transient,
    }


@task(name="ensure-concurrency-limits", persist_result=False, cache_policy=NO_CACHE)
def ensure_concurrency_limits(jobs: Sequence[MailboxJob], per_source_host: int) -> list[str]:
    """Create (or resize) the source hosts' connection caps and each pair's limit of 1."""
    wanted: dict[str, int] = {}
    for job in jobs:
        wanted[job.source_limit] = per_source_host
        wanted[job.pair_limit] = 1
    with get_client(sync_client=True) as client:
        for name, limit in wanted.items():
            try:
                client.upsert_global_concurrency_limit_by_name(name, limit)
            except ObjectAlreadyExists:  # another customer's run on this host created it just now
                client.upsert_global_concurrency_limit_by_name(name, limit)
    return sorted(wanted)


def _open_state(url: str) -> StateStore:
    """The engine's store; a SQLite file's folder is created 0700 (the engine makes the file
    0600)."""
    if url.startswith("sqlite:///"):
        private_dir(Path(url.removeprefix("sqlite:///")).parent)
    return StateStore(url)


def _say(mailbox: str, message: str) -> None:
    get_run_logger().warning("%s: %s", mailbox, message)
    publish(SlotWait(mailbox, message))  # type: ignore[arg-type]  # any listener event


def _ended(outcome: MailboxOutcome, approved: frozenset[tuple[str, int]]) -> Any:
    """The task's final state: a mailbox with new failed or skipped items is not green.

    Prefect colours a run by its state *type* (a Completed state with another name is still
    green), so such a mailbox ends ``Failed`` named ``SyncedWithErrors``, carrying its outcome
    (the flow reads the counts from it; the retry condition does not retry it). Only approved
    items: ``Completed`` named ``SyncedApproved``.
    """
    items = [
        p
        for p in outcome.problems
        if p.outcome in ("failed", "skipped") and p.error_class not in DEFERRED_CLASSES
    ]
    new = [p for p in items if p.uid <= 0 or (p.folder, p.uid) not in approved]
    if new or outcome.error:
        what = f"{len(new)} new failed or skipped item(s)" if new else str(outcome.error)
        return Failed(
            name="SyncedWithErrors", message=f"{what}: see failed-transfers", data=outcome
        )
    if items:
        return Completed(
            name="SyncedApproved", message=f"{len(items)} approved item(s)", data=outcome
        )
    return outcome


@task(
    name="sync-mailbox",
    task_run_name="sync {job.mailbox}",
    persist_result=False,
    cache_policy=NO_CACHE,
    **retry_policy(3, 10.0),
)
def sync_mailbox_task(
    job: MailboxJob,
    spec: OnboardingSpec,
    pass_kind: PassKind,
    window: DateWindow | None = None,
    approved: frozenset[tuple[str, int]] = frozenset(),
) -> MailboxOutcome:
    """Copy one mailbox pair; takes the host and pair slots for the whole session."""
    publish(MailboxAttempt(job.mailbox, task_run.run_count))
    vault = current_vault()
    pair = mailbox_pair(spec, vault.credentials(spec)[job.mailbox], vault)
    options = sync_options(
        spec,
        pass_kind,
        window=window,
        approved_items=approved,
        source=(job.source_host, job.source_port),
        host_rates=run_host_rates(spec),
    )
    with slots(
        [job.source_limit, job.pair_limit],
        what=f"source connection ({job.source_host}:{job.source_port}) or mailbox pair",
        wait_seconds=spec.migration.slot_wait_seconds,
        lease_seconds=_LEASE_SECONDS,
        say=lambda message: _say(job.mailbox, message),
    ):
        outcome = sync_mailbox(pair, options, _open_state(state_url(spec)), progress=publish)
    return cast(MailboxOutcome, _ended(outcome, approved))


def _result_of(
    job: MailboxJob, future: PrefectFuture[MailboxOutcome], attempts: int
) -> MailboxResult:
    """The task's outcome (also when it ended SyncedWithErrors), or its last exception."""
    future.wait()
    state = future.state
    value = state.result(raise_on_failure=False)
    if isinstance(value, MailboxOutcome):
        return MailboxResult(job.mailbox, outcome=value, attempts=attempts)
    error = value if isinstance(value, BaseException) else RuntimeError(state.message or "failed")
    return MailboxResult(job.mailbox, error=error, attempts=attempts)


def progress_key_of(spec: OnboardingSpec) -> str:
    """The key of the customer's migration progress artifact."""
    return f"migration-progress-{spec.customer_slug}"


class Tally:
    """Counts attempts per mailbox (from the tasks' own ticks) and the progress artifact."""

    def __init__(self, key: str, total: int) -> None:
        self.attempts: dict[str, int] = {}
        self.total = total
        self.done = self.copied = self.bytes_copied = 0
        self.artifact = cast(
            UUID, create_progress_artifact(0.0, key=key, description=f"0/{total} mailboxes")
        )

    def __call__(self, event: object) -> None:
        if isinstance(event, MailboxAttempt):
            self.attempts[event.mailbox] = max(self.attempts.get(event.mailbox, 0), event.attempt)

    def finished(self, result: MailboxResult) -> None:
        """Count one finished mailbox and update the progress artifact."""
        self.done += 1
        if result.outcome is not None:
            self.copied += result.outcome.copied
            self.bytes_copied += result.outcome.bytes_copied
        update_progress_artifact(
            self.artifact,
            100.0 * self.done / self.total,
            description=(
                f"{self.done}/{self.total} mailboxes, {self.copied:,} messages, "
                f"{self.bytes_copied / 1e6:,.1f} MB copied"
            ),
        )


def sync_all(
    spec: OnboardingSpec,
    jobs: Sequence[MailboxJob],
    pass_kind: PassKind,
    *,
    window: DateWindow | None = None,
    approvals: Approvals | None = None,
    progress_key: str | None = None,
) -> list[MailboxResult]:
    """Run one sync task per job, ``parallel_mailboxes`` at once; results in job order.

    The progress artifact (``progress_key``, default ``migration-progress-<slug>``; a batch
    has its own) counts finished mailboxes; every engine tick, attempt and finished
    mailbox is also published to whoever watches (:func:`onboarding.mailsync.progress.watching`,
    the command line's display). When the run is stopped (SIGTERM, Ctrl-C: the flow thread
    gets the signal while the task threads hold their slots) every slot this process holds
    is given back before the signal goes on.
    """
    m = spec.migration
    require_source_tokens(spec, jobs, current_vault())  # bad OAuth credentials fail once
    sync = sync_mailbox_task.with_options(**retry_policy(m.task_retries, m.retry_backoff_seconds))
    tally = Tally(progress_key or progress_key_of(spec), len(jobs))
    done: dict[str, MailboxResult] = {}
    runner: ThreadPoolTaskRunner[MailboxOutcome] = ThreadPoolTaskRunner(m.parallel_mailboxes)
    approvals = approvals or Approvals()
    run_host_rates(spec)  # the tasks' shared per-host buckets, made before they start
    publish(PassStarted(len(jobs)))
    with watching(tally), runner, stopping_gives_slots_back(runner):
        futures: dict[PrefectFuture[MailboxOutcome], MailboxJob] = {
            runner.submit(
                sync,
                {
                    "job": job,
                    "spec": spec,
                    "pass_kind": pass_kind,
                    "window": window,
                    "approved": approvals.for_mailbox(job.mailbox),
                },
            ): job
            for job in jobs
        }
        for future in as_completed(list(futures)):
            job = futures[future]
            result = _result_of(job, future, max(1, tally.attempts.get(job.mailbox, 1)))
            done[result.mailbox] = result
            tally.finished(result)
            error = str(result.error) if result.error else None
            publish(MailboxDone(result.mailbox, result.outcome, error))
    return [done[job.mailbox] for job in jobs]


def plan_mailboxes(
    spec: OnboardingSpec, jobs: Sequence[MailboxJob], pass_kind: PassKind
) -> list[SyncPlan]:
    """The engine's dry run for each job (read-only: no state DB, no artifact, no file)."""
    vault = current_vault()
    credentials = vault.credentials(spec)
    options = sync_options(spec, pass_kind)
    return [plan(mailbox_pair(spec, credentials[j.mailbox], vault), options) for j in jobs]


def customer_folder(spec: OnboardingSpec) -> Path:
    """``<output_dir>/<slug>/``: where the latest table and the approvals live."""
    return Path(spec.output_dir) / spec.customer_slug


@task(name="approve-failed-items", persist_result=False, cache_policy=NO_CACHE)
def approve_known(spec: OnboardingSpec, mailboxes: Sequence[str], note: str) -> int:
    """Approve every failed or skipped item the latest table lists for ``mailboxes``.

    Returns how many were added. Mailboxes that failed as a whole and folders in error are
    not items and stay in the way: they need a fix.
    """
    folder = customer_folder(spec)
    approvals = load_approvals(folder)
    wanted = set(mailboxes)
    rows = [r for r in load_latest(folder).rows(approvals.keys) if r["mailbox"] in wanted]
    updated = approvals.adding(rows, now=datetime.now(UTC), note=note)
    save_approvals(folder, updated)
    added = len(updated.items) - len(approvals.items)
    get_run_logger().info("approved %d known failed or skipped item(s)", added)
    return added


def load_review(spec: OnboardingSpec) -> tuple[Approvals, LatestTable]:
    """The customer's approvals and latest table (read by the flow, once)."""
    folder = customer_folder(spec)
    return load_approvals(folder), load_latest(folder)


def _artifact_link(artifact_id: object) -> str | None:
    ui = PREFECT_UI_URL.value()
    return f"{ui.rstrip('/')}/artifacts/artifact/{artifact_id}" if ui and artifact_id else None


@task(name="publish-migration-report", persist_result=False, cache_policy=NO_CACHE)
def publish_migration(
    spec: OnboardingSpec,
    results: Sequence[MailboxResult],
    pass_kind: PassKind,
    approvals: Approvals | None = None,
) -> tuple[MigrationReport, str, str]:
    """Build the report; publish the failed-transfers table and summary; write the run folder.

    The table is the customer's latest one: this run's mailboxes replace theirs, the others
    stay as their last pass left them (a ``--users`` re-run adds to it). Returns the report,
    the run folder and where the table is (its UI link, else the CSV path).
    """
    approvals = approvals or Approvals()
    slug = spec.customer_slug
    report = build_report(
        slug,
        pass_kind,
        results,
        approved=approvals.keys,
        bad_item_limit=spec.migration.bad_item_limit,
        warnings=spec.warnings,
    )
    home = customer_folder(spec)
    latest = load_latest(home).merged(report, at=datetime.now(UTC))
    save_latest(home, latest)
    rows = latest.rows(approvals.keys)
    new = sum(1 for r in rows if r.get("approval") == "new")
    artifact_id = create_table_artifact(
        table_rows(rows),
        key=f"failed-transfers-{slug}",
        description=f"{len(rows)} failed or skipped item(s) over {len(latest.mailboxes)} "
        f"mailbox(es), {new} new; latest pass {pass_kind}",
    )
    create_markdown_artifact(report.markdown(), key=f"migration-summary-{slug}")
    folder = RunFolder.create(spec.output_dir, slug, "migrate")
    folder.write_text("summary.md", report.markdown())
    folder.write_csv("mailboxes.csv", report.mailboxes, MAILBOX_COLUMNS)
    table = folder.write_csv(
        "failed-transfers.csv",
        [
            r | {"size": human_size(r.get("size", "")), "size_bytes": r.get("size", "")}
            for r in rows
        ],
        (*FAILED_COLUMNS, "size_bytes"),
    )
    folder.write_json("report.json", report.as_json())
    get_run_logger().info("%s; report in %s", report.equation, folder.path)
    where = _artifact_link(artifact_id) or str(table)
    return report, str(folder.path), f"failed-transfers-{slug} ({where})"
