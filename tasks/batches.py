"""A big customer's migration spread over the work pool: one child flow run per batch.

``migrate`` started from a deployment with more mailboxes than ``migration.batch_size`` hands
each batch of users to a run of the ``migrate-batch`` deployment (:data:`BATCH_DEPLOYMENT`,
``run_deployment`` linked as a subflow), so any worker of the pool can pick it up, and waits
for them all. Every batch syncs through the same Prefect global concurrency limits (the
per-source-host cap holds across workers) into the same state store.

A batch whose worker died never reaches a final state by itself: the flow-run heartbeats stop,
and the "crash zombie flow runs" automation (``python -m deployments`` sets it up) marks it
``Crashed``. A crashed batch is started again (another worker picks it up), at most
:data:`ATTEMPTS` times; the state store makes the second run copy only what the first did
not. A batch that ends without a result (cancelled, crashed too often, its spec unreadable)
counts each of its mailboxes as failed with the reason, so nothing is silently lost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.runtime import deployment, flow_run

from flows.results import BatchRow, MigrateBatchResult, result_of
from onboarding.mailsync.models import PassKind
from onboarding.mailsync.report import MailboxResult
from tasks.adapters import DateWindow, MailboxJob
from tasks.migrate import Tally, progress_key_of
from validation.spec import OnboardingSpec

__all__ = ["ATTEMPTS", "BATCH_DEPLOYMENT", "batched", "migrate_in_batches", "split"]

BATCH_DEPLOYMENT = "migrate-batch/batch"
ATTEMPTS = 3  # runs of one batch: the first, and a re-run for each of two crashed workers
_POLL_SECONDS = 2.0


def batched(spec: OnboardingSpec, jobs: Sequence[MailboxJob]) -> bool:
    """Spread this run over the work pool? Only a deployment run (workers exist) with more
    mailboxes than ``migration.batch_size``; a local ``onboard migrate`` runs in-process."""
    return len(jobs) > spec.migration.batch_size and deployment.get_id() is not None


def split(jobs: Sequence[MailboxJob], size: int) -> list[list[MailboxJob]]:
    """``jobs`` in batches of at most ``size``, in order, sizes as even as they can be."""
    count = -(-len(jobs) // size)
    per, extra = divmod(len(jobs), count) if count else (0, 0)
    out: list[list[MailboxJob]] = []
    start = 0
    for i in range(count):
        end = start + per + (1 if i < extra else 0)
        out.append(list(jobs[start:end]))
        start = end
    return out


@dataclass
class _Batch:
    number: int
    jobs: list[MailboxJob]
    runs: list[UUID] = field(default_factory=list)
    state: str = "Scheduled"
    results: list[MailboxResult] | None = None


def _start(batch: _Batch, parameters: dict[str, Any], run_name: str) -> None:
    parent = flow_run.get_id() or "local"
    run = cast(
        FlowRun,
        run_deployment(
            BATCH_DEPLOYMENT,
            parameters=parameters | {"users": [j.mailbox for j in batch.jobs]},
            flow_run_name=f"{run_name} {batch.number}",
            idempotency_key=f"{parent}-batch-{batch.number}-{len(batch.runs) + 1}",
            timeout=0,
            as_subflow=True,
        ),
    )
    batch.runs.append(run.id)
    batch.state = "Scheduled"


def _failed(batch: _Batch, why: str) -> list[MailboxResult]:
    error = RuntimeError(f"batch {batch.number} ({len(batch.runs)} run(s)) {why}")
    return [MailboxResult(j.mailbox, error=error) for j in batch.jobs]


def _settle(batch: _Batch, state: Any) -> bool:
    """Take a final child state: its results, a re-run when it crashed, else failures."""
    logger = get_run_logger()
    batch.state = str(state.name)
    if state.is_crashed() and len(batch.runs) < ATTEMPTS:
        logger.warning(
            "batch %d: run %s crashed (%s); starting it again on the pool",
            batch.number,
            batch.runs[-1],
            state.message,
        )
        return False
    value = result_of(state)
    if isinstance(value, MigrateBatchResult) and len(value.outcomes) == len(batch.jobs):
        batch.results = list(value.outcomes)
    else:
        batch.results = _failed(batch, f"ended {state.name}: {state.message or value}")
    logger.info("batch %d ended %s: %s", batch.number, state.name, state.message)
    return True


def migrate_in_batches(
    spec: OnboardingSpec,
    spec_path: str | Path,
    jobs: Sequence[MailboxJob],
    pass_kind: PassKind,
    *,
    window: DateWindow | None = None,
) -> tuple[list[MailboxResult], list[BatchRow]]:
    """Run every batch as a child flow run and wait; results in job order, and each batch's
    runs. The parent's progress artifact counts the mailboxes of finished batches."""
    size = spec.migration.batch_size
    batches = [_Batch(i + 1, part) for i, part in enumerate(split(jobs, size))]
    parameters: dict[str, Any] = {
        "spec_path": str(spec_path),
        "pass_kind": pass_kind,
        "since": window.since.isoformat() if window and window.since else None,
        "before": window.before.isoformat() if window and window.before else None,
    }
    run_name = f"{spec.customer_slug} · migrate {pass_kind} batch"
    tally = Tally(progress_key_of(spec), len(jobs))
    get_run_logger().info(
        "%d mailboxes in %d batches of up to %d on the work pool (deployment %s)",
        len(jobs),
        len(batches),
        size,
        BATCH_DEPLOYMENT,
    )
    for batch in batches:
        _start(batch, parameters | {"batch": batch.number}, run_name)
    waiting = list(batches)
    with get_client(sync_client=True) as client:
        while waiting:
            for batch in list(waiting):
                state = client.read_flow_run(batch.runs[-1]).state
                if state is None or not state.is_final():
                    continue
                if not _settle(batch, state):
                    _start(batch, parameters | {"batch": batch.number}, run_name)
                    continue
                waiting.remove(batch)
                for result in batch.results or ():
                    tally.finished(result)
            if waiting:
                time.sleep(_POLL_SECONDS)
    done = {r.mailbox: r for b in batches for r in b.results or ()}
    rows = [
        BatchRow(
            batch=b.number,
            mailboxes=len(b.jobs),
            flow_runs=tuple(str(r) for r in b.runs),
            state=b.state,
            attempts=len(b.runs),
        )
        for b in batches
    ]
    return [done[j.mailbox] for j in jobs], rows
