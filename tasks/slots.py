"""Prefect global concurrency slots that a stopped run gives back and a waiting run explains.

``migrate`` and ``preflight`` cap connections per source server (and syncs per mailbox pair)
with Prefect global concurrency limits, which hold across workers. Prefect's own
``concurrency()`` leaves three problems this module solves (issue 14):

- **A stopped run kept its slots.** On SIGTERM or Ctrl-C the flow thread gets the signal,
  but the task threads holding slots never reach their ``finally``. Every lease this process
  holds is recorded in :data:`_HELD`; :func:`stopping_gives_slots_back` releases them all.
- **Stale leases were never reaped on a temporary server.** Prefect reaps expired leases
  in its ``repossessor`` service, which an ephemeral server (the one ``onboard`` starts, the
  test harness) does not run, and the default in-memory lease storage forgets every lease
  when that server stops while the slot counts stay in the database. The temporary server
  therefore keeps leases in files under ``PREFECT_HOME`` (``cli.prefect_runtime``), and before
  waiting, :func:`reap_expired` releases the expired leases it can read there.
- **Waiting was silent and unbounded.** :func:`slots` waits at most ``wait_seconds`` and says
  every :data:`_SAY_EVERY` seconds who holds the slot ("held by run X since HH:MM").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.concurrency._leases import maintain_concurrency_lease
from prefect.exceptions import TerminationSignal
from prefect.runtime import task_run
from prefect.server.concurrency.lease_storage import ConcurrencyLeaseStorage
from prefect.server.utilities.leasing import ResourceLease
from prefect.settings import get_current_settings
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.asyncutils import run_coro_as_sync

__all__ = [
    "FILE_LEASES",
    "SlotWait",
    "SlotWaitTimeout",
    "held",
    "holding",
    "reap_expired",
    "release_held",
    "slots",
    "stopping_gives_slots_back",
    "try_acquire",
]

FILE_LEASES = "prefect.server.concurrency.lease_storage.filesystem"
_POLL_SECONDS = 2.0
_SAY_EVERY = 15.0

_HELD: dict[UUID, str] = {}  # lease id → what it is for, for every lease this process holds
_HELD_LOCK = threading.Lock()


class SlotWaitTimeout(RuntimeError):
    """Raised when no slot came free within ``wait_seconds``; names who holds it."""

    transient = False  # the task's retry would only wait again


@dataclass(frozen=True)
class SlotWait:
    """A progress event: a mailbox waits for a slot (the command line prints ``message``)."""

    mailbox: str
    message: str


def held() -> dict[UUID, str]:
    """The leases this process holds now (a copy)."""
    with _HELD_LOCK:
        return dict(_HELD)


def release_held() -> int:
    """Give back every lease this process holds (a stopped run); return how many."""
    with _HELD_LOCK:
        leases = list(_HELD)
        _HELD.clear()
    if not leases:
        return 0
    with get_client(sync_client=True) as client:
        for lease_id in leases:
            try:
                client.release_concurrency_slots_with_lease(lease_id)
            except Exception:  # best effort: the lease also expires on its own
                continue
    return len(leases)


@contextmanager
def stopping_gives_slots_back(runner: ThreadPoolTaskRunner[Any]) -> Iterator[None]:
    """Inside ``with runner``: if the block is stopped (SIGTERM arrives as Prefect's
    ``TerminationSignal``, Ctrl-C as ``KeyboardInterrupt``), give back every slot this process
    holds and let the runner's exit not wait for the task threads, so the process ends now.

    The threads cannot be interrupted; their slots are released here, their lease renewal
    then fails and stops them, and the process exits with the signal.
    """
    try:
        yield
    except (KeyboardInterrupt, SystemExit, TerminationSignal):
        release_held()
        executor = runner._executor  # private: ThreadPoolTaskRunner.__exit__ would wait
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
            runner._executor = None
        raise


def _file_storage() -> ConcurrencyLeaseStorage | None:
    """The lease files of the server, when it keeps them where this process can read them."""
    if get_current_settings().server.concurrency.lease_storage != FILE_LEASES:
        return None
    from prefect.server.concurrency.lease_storage import filesystem

    return filesystem.ConcurrencyLeaseStorage()


def _limit_ids(client: Any, names: list[str]) -> dict[UUID, str]:
    ids: dict[UUID, str] = {}
    for name in names:
        try:
            ids[client.read_global_concurrency_limit_by_name(name).id] = name
        except Exception:
            continue
    return ids


def reap_expired(names: list[str]) -> int:
    """Release the expired leases on ``names`` found in the lease files; return how many.

    What Prefect's repossessor does on a full server, for a temporary one: a lease not
    renewed within its duration belongs to a process that is gone.
    """
    storage = _file_storage()
    if storage is None:
        return 0
    reaped = 0
    with get_client(sync_client=True) as client:
        ids = _limit_ids(client, names)
        expired: list[UUID] = run_coro_as_sync(storage.read_expired_lease_ids(limit=1000)) or []
        for lease_id in expired:
            lease = run_coro_as_sync(storage.read_lease(lease_id))
            if lease is None or not set(lease.resource_ids) & set(ids):
                continue
            try:
                client.release_concurrency_slots_with_lease(lease_id)
                reaped += 1
            except httpx.HTTPError:
                continue
    return reaped


def _holders(names: list[str]) -> str:
    """``run 'brave-fox' (task 'sync a@x') since 14:02`` for each visible holder, else counts."""
    with get_client(sync_client=True) as client:
        ids = _limit_ids(client, names)
        storage = _file_storage()
        found: list[str] = []
        if storage is not None:
            for limit_id in ids:
                holders: list[tuple[UUID, ConcurrencyLeaseHolder]] = (
                    run_coro_as_sync(storage.list_holders_for_limit(limit_id)) or []
                )
                for lease_id, holder in holders:
                    lease: ResourceLease[Any] | None = run_coro_as_sync(
                        storage.read_lease(lease_id)
                    )
                    since = f" since {lease.created_at:%H:%M} UTC" if lease else ""
                    found.append(_describe_holder(client, holder) + since)
        if found:
            return "; ".join(sorted(set(found)))
        counts = []
        for name in names:
            try:
                limit = client.read_global_concurrency_limit_by_name(name)
            except Exception:
                continue
            counts.append(f"{name}: {limit.active_slots}/{limit.limit} taken")
        return "other runs (" + ", ".join(counts) + ")"


def _describe_holder(client: Any, holder: ConcurrencyLeaseHolder) -> str:
    if holder.type != "task_run":
        return f"{holder.type} {holder.id}"
    try:
        run = client.read_task_run(holder.id)
        flow = client.read_flow_run(run.flow_run_id) if run.flow_run_id else None
    except Exception:
        return f"task run {holder.id}"
    name = f"run {flow.name!r} ({flow.id})" if flow else "a run"
    return f"{name}, task {run.name!r}"


def try_acquire(
    names: list[str], lease_seconds: float, holder: ConcurrencyLeaseHolder | None
) -> tuple[UUID | None, float]:
    """One attempt: the lease id, or None and how long the server asks us to wait."""
    with get_client(sync_client=True) as client:
        try:
            response = client.increment_concurrency_slots_with_lease(
                names, 1, "concurrency", lease_seconds, holder
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 423:
                raise
            return None, float(exc.response.headers.get("Retry-After", _POLL_SECONDS))
    data = response.json()
    if not data.get("limits"):
        raise LookupError(f"the concurrency limits {names} do not exist (create them first)")
    return UUID(data["lease_id"]), 0.0


@contextmanager
def slots(
    names: list[str],
    *,
    what: str,
    wait_seconds: float,
    lease_seconds: float = 60.0,
    say: Callable[[str], None] = lambda _m: None,
) -> Iterator[None]:
    """Hold one slot of each limit in ``names`` for the block; wait at most ``wait_seconds``.

    While waiting, ``say`` hears (every :data:`_SAY_EVERY` s) what it waits for and who holds
    it. Raises :class:`SlotWaitTimeout` with the same words when the wait is over.
    """
    run_id = task_run.get_id()
    holder = ConcurrencyLeaseHolder(type="task_run", id=UUID(run_id)) if run_id else None
    started = time.monotonic()
    said = -_SAY_EVERY
    reap_expired(names)
    while True:
        lease_id, retry_after = try_acquire(names, lease_seconds, holder)
        if lease_id is not None:
            break
        waited = time.monotonic() - started
        if waited >= wait_seconds or waited - said >= _SAY_EVERY:
            since = datetime.fromtimestamp(time.time() - waited, UTC)
            message = (
                f"waiting for a {what} slot held by {_holders(names)} "
                f"(waiting since {since:%H:%M:%S} UTC)"
            )
            if said < 0:
                say(message)  # the first wait is always said, however short the limit
                said = waited
            if waited >= wait_seconds:
                raise SlotWaitTimeout(
                    f"no {what} slot came free within {wait_seconds:g} s: {message}. If that "
                    "run is gone, its lease expires within a minute; re-run then"
                )
            if waited - said >= _SAY_EVERY:
                say(message)
                said = waited
            reap_expired(names)
        time.sleep(min(max(retry_after, 0.2), _POLL_SECONDS, max(wait_seconds - waited, 0.05)))
    with holding(lease_id, what, lease_seconds):
        yield


@contextmanager
def holding(
    lease_id: UUID, what: str, lease_seconds: float, *, strict: bool = True
) -> Iterator[None]:
    """Keep the lease ``lease_id`` (renewed) for the block, then release it; a stopped run's
    :func:`release_held` gives it back too. ``strict``: a failed renewal stops the block."""
    with _HELD_LOCK:
        _HELD[lease_id] = what
    try:
        with maintain_concurrency_lease(
            lease_id, lease_seconds, raise_on_lease_renewal_failure=strict
        ):
            yield
    finally:
        with _HELD_LOCK:
            mine = _HELD.pop(lease_id, None) is not None
        if mine:  # not already given back by release_held()
            with get_client(sync_client=True) as client:
                client.release_concurrency_slots_with_lease(lease_id)
