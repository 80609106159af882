"""One run per customer and phase at a time, any number of customers at once (issue 11).

Each customer has Prefect global concurrency limits of 1 named after its slug, created on
demand: ``customer-<slug>-migrate`` (every migrate pass: initial, incremental, final,
catch-up), ``customer-<slug>-cutover`` and ``customer-<slug>-onboard``. A flow takes its
customer's slot for the whole run (:func:`customer_slot`) and gives it back on every end,
SIGTERM and Ctrl-C included (:mod:`tasks.slots` keeps the lease and releases it); a killed
process's lease expires within :data:`LEASE_SECONDS`. A second run for the same customer
and phase is refused at once, not queued, naming the run that holds the slot: the holder
tags itself ``holds:<limit>`` (and ``customer:<slug>``, for the UI's filter) and names its
process (``lease-held-by:<limit>@<host>:<pid>:<lease>``): a holder killed on this machine (SIGKILL,
a power cut: no ``finally`` ran, its run still says Running) is seen to be gone, and its
lease released, so the re-run the runbook asks for goes ahead at once.

Nesting, so nothing deadlocks: a run holds its slots for the flows it calls in-process. The
cutover takes ``…-cutover`` for the whole run (a pause for approval blocks only this
customer's second cutover) and ``…-migrate`` from the hold to the release, so no nightly
pass runs while mail is held; its final pass (the ``migrate`` subflow) finds the slot held
by its parent run and goes on. ``onboard`` takes ``…-onboard``; its phases take their own.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import ConcurrencyLeaseHolder, FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.runtime import flow_run

from tasks.slots import holding, reap_expired, try_acquire
from validation.spec import OnboardingSpec

__all__ = ["LEASE_SECONDS", "CustomerBusy", "CustomerPhase", "customer_slot", "limit_name"]

CustomerPhase = Literal["migrate", "cutover", "onboard"]
LEASE_SECONDS = 60.0
_ACTIVE = [StateType.RUNNING, StateType.PAUSED, StateType.PENDING, StateType.CANCELLING]
_LEASE_TAG = "lease-held-by:"
_MINE: ContextVar[frozenset[str]] = ContextVar("customer_slots", default=frozenset())


class CustomerBusy(RuntimeError):
    """Raised when another run holds the customer's slot for this phase; names that run."""

    def __init__(self, message: str, *, limit: str, holder: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.holder = holder


def limit_name(slug: str, phase: CustomerPhase) -> str:
    """The global concurrency limit of ``slug``'s ``phase``.

    Example::

        >>> limit_name("acme-corp", "migrate")
        'customer-acme-corp-migrate'
    """
    return f"customer-{slug}-{phase}"


def _holders(limit: str, me: str | None) -> list[FlowRun]:
    """The active runs tagged as holding ``limit`` (newest first), other than ``me``."""
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=[f"holds:{limit}"]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=_ACTIVE)),
                id=FlowRunFilterId(not_any_=[UUID(me)]) if me else None,
            ),
            sort=FlowRunSort.START_TIME_DESC,
        )


def _describe(runs: list[FlowRun]) -> str:
    """``run 'acme · migrate initial' (<id>, Paused)`` for the newest holder."""
    if not runs:
        return "another run (whose lease expires within a minute if its process is gone)"
    run = runs[0]
    state = run.state.name if run.state else "unknown state"
    return f"run {run.name!r} ({run.id}, {state})"


def _process_tag(limit: str, lease_id: UUID | None = None) -> str:
    """``lease-held-by:<limit>@<host>:<pid>:<lease>`` (the prefix alone without a lease)."""
    prefix = f"{_LEASE_TAG}{limit}@"
    return (
        prefix if lease_id is None else f"{prefix}{socket.gethostname()}:{os.getpid()}:{lease_id}"
    )


def _dead_lease(run: FlowRun, limit: str) -> UUID | None:
    """The lease of a holder whose process on this machine is gone (killed: no ``finally``
    ran, and a run left Running says nothing), else None."""
    for tag in run.tags:
        host, _, rest = tag.removeprefix(_process_tag(limit)).partition(":")
        pid, _, lease = rest.partition(":")
        if not tag.startswith(_process_tag(limit)) or host != socket.gethostname():
            continue
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return UUID(lease)
        except PermissionError:  # alive, another user's
            return None
    return None


def _reclaim(runs: list[FlowRun], limit: str, slug: str) -> bool:
    """Release the leases of dead holders on this machine; True when one was released."""
    released = False
    for run in runs:
        lease = _dead_lease(run, limit)
        if lease is None:
            continue
        with get_client(sync_client=True) as client, contextlib.suppress(Exception):
            client.release_concurrency_slots_with_lease(lease)
            released = True
        _tag(str(run.id), slug, limit, holds=None)
    return released


def _tag(run_id: str, slug: str, limit: str, *, holds: UUID | None) -> None:
    """Tag the run ``customer:<slug>``, and ``holds:<limit>`` plus the holding process while
    it holds the lease ``holds`` (the tags go when it is released)."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(run_id))
        mine = (f"holds:{limit}", _process_tag(limit))
        tags = [t for t in run.tags if not t.startswith(mine)]
        tags += [f"customer:{slug}"] * (f"customer:{slug}" not in tags)
        if holds is not None:
            tags += [f"holds:{limit}", _process_tag(limit, holds)]
        client.update_flow_run(UUID(run_id), tags=tags)


@contextmanager
def customer_slot(spec: OnboardingSpec, phase: CustomerPhase) -> Iterator[None]:
    """Hold ``spec``'s ``phase`` slot for the block, or raise :class:`CustomerBusy` at once.

    Re-entrant within one run and the flows it calls in-process (the cutover's final pass).
    """
    limit = limit_name(spec.customer_slug, phase)
    if limit in _MINE.get():
        yield
        return
    run_id = flow_run.get_id()
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(limit)
        except Exception:  # created on demand; a limit an operator resized is kept
            client.upsert_global_concurrency_limit_by_name(limit, 1)
    reap_expired([limit])
    holder = ConcurrencyLeaseHolder(type="flow_run", id=UUID(run_id)) if run_id else None
    lease_id, _ = try_acquire([limit], LEASE_SECONDS, holder)
    if lease_id is None and _reclaim(_holders(limit, run_id), limit, spec.customer_slug):
        lease_id, _ = try_acquire([limit], LEASE_SECONDS, holder)
    if lease_id is None:
        who = _describe(_holders(limit, run_id))
        raise CustomerBusy(
            f"{spec.customer} ({spec.customer_slug}) already has a {phase} under way: {who} "
            f"holds {limit}; this run was refused (nothing done): re-run when that one ends",
            limit=limit,
            holder=who,
        )
    with holding(lease_id, f"{phase} of {spec.customer_slug}", LEASE_SECONDS, strict=False):
        if run_id:
            _tag(run_id, spec.customer_slug, limit, holds=lease_id)
        token = _MINE.set(_MINE.get() | {limit})
        try:
            yield
        finally:
            _MINE.reset(token)
            if run_id:
                _tag(run_id, spec.customer_slug, limit, holds=None)
