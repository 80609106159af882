"""Tasks of the ``preflight`` flow: survey every user's mailbox pair at once, within the caps.

One task run per user, ``migration.parallel_mailboxes`` at a time, each holding one slot of
the source server's connection cap (the same Prefect global concurrency limit ``migrate``
uses, :func:`tasks.adapters.source_limit_name`), so a preflight never opens more sessions to
the old server than a migration would. A user whose survey raises anything becomes a failed
row: one bad login never stops the others. Nothing is written to either mail server or to
the sync state; the report goes to the ``preflight-<slug>`` artifact and the run folder.
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from onboarding.mailsync.report import human_size
from onboarding.mailsync.survey import PREFLIGHT_COLUMNS, Survey, survey
from onboarding.reports import RunFolder
from tasks.adapters import MailboxJob, mailbox_pair, require_source_tokens, sync_options
from tasks.slots import slots, stopping_gives_slots_back
from tasks.vault import current_vault
from validation.spec import OnboardingSpec

__all__ = ["preflight_all", "preflight_mailbox", "publish_preflight"]

_LEASE_SECONDS = 60.0


@task(
    name="preflight-mailbox",
    task_run_name="preflight {job.mailbox}",
    persist_result=False,
    cache_policy=NO_CACHE,
)
def preflight_mailbox(job: MailboxJob, spec: OnboardingSpec) -> Survey:
    """Survey one pair (logins, folders, sizes, a timed sample) holding one source slot."""
    vault = current_vault()
    pair = mailbox_pair(spec, vault.credentials(spec)[job.mailbox], vault)
    with slots(
        [job.source_limit],
        what=f"source connection ({job.source_host}:{job.source_port})",
        wait_seconds=spec.migration.slot_wait_seconds,
        lease_seconds=_LEASE_SECONDS,
        say=lambda message: get_run_logger().warning("%s: %s", job.mailbox, message),
    ):
        return survey(
            pair,
            sync_options(spec, "initial"),
            sample_bytes=int(spec.migration.preflight_sample_mb * (1 << 20)),
        )


def _crashed_row(job: MailboxJob, error: BaseException | str) -> dict[str, object]:
    return {
        "mailbox": job.mailbox,
        "status": "error",
        "ok": False,
        "failed_side": None,
        "error": str(error),
        "fix": "see the error; re-run preflight",
        "folders": 0,
        "messages": 0,
        "bytes": 0,
        "largest_message": None,
        "message_size_limit": 0,
        "too_big": 0,
        "fits_message_limit": None,
        "quota_free_bytes": None,
        "fits_quota": None,
        "sample_messages": None,
        "sample_bytes_per_second": None,
        "eta_seconds": None,
        "source_capabilities": [],
        "destination_capabilities": [],
    }


def preflight_all(spec: OnboardingSpec, jobs: Sequence[MailboxJob]) -> list[dict[str, object]]:
    """One row per job (job order), every user surveyed whatever the others' results;
    refused OAuth credentials (the same for every user) fail once, before any survey."""
    require_source_tokens(spec, jobs, current_vault())
    runner: ThreadPoolTaskRunner[Survey] = ThreadPoolTaskRunner(spec.migration.parallel_mailboxes)
    rows: dict[str, dict[str, object]] = {}
    with runner, stopping_gives_slots_back(runner):
        futures: dict[PrefectFuture[Survey], MailboxJob] = {
            runner.submit(preflight_mailbox, {"job": job, "spec": spec}): job for job in jobs
        }
        for future in as_completed(list(futures)):
            job = futures[future]
            future.wait()
            value = future.state.result(raise_on_failure=False)
            if isinstance(value, Survey):
                rows[job.mailbox] = value.to_dict()
            else:
                rows[job.mailbox] = _crashed_row(job, value or future.state.message or "")
    return [rows[job.mailbox] for job in jobs]


def _cell(column: str, row: dict[str, object]) -> object:
    value = row.get(column)
    if column == "size":
        return human_size(row["bytes"])
    if column in ("largest_message", "message_size_limit") and isinstance(value, int):
        return human_size(value)
    if column == "quota_free":
        free = row.get("quota_free_bytes")
        return human_size(free) if isinstance(free, int) else "unknown"
    if column == "sample_rate":
        rate = row.get("sample_bytes_per_second")
        return f"{human_size(int(rate))}/s" if isinstance(rate, float) else ""
    if column == "eta":
        eta = row.get("eta_seconds")
        return f"{eta:,.0f} s" if isinstance(eta, float) else "unknown"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else value


@task(name="publish-preflight-report", persist_result=False, cache_policy=NO_CACHE)
def publish_preflight(spec: OnboardingSpec, rows: Sequence[dict[str, object]], message: str) -> str:
    """The ``preflight-<slug>`` table artifact and ``preflight.csv`` in a run folder."""
    table = [{c: _cell(c, r) for c in PREFLIGHT_COLUMNS} for r in rows]
    create_table_artifact(table, key=f"preflight-{spec.customer_slug}", description=message[:500])
    folder = RunFolder.create(spec.output_dir, spec.customer_slug, "preflight")
    folder.write_csv("preflight.csv", table, PREFLIGHT_COLUMNS)
    folder.write_json("preflight.json", {"message": message, "users": list(rows)})
    get_run_logger().info("%s; report in %s", message, folder.path)
    return str(folder.path)
