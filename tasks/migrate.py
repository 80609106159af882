"""Tasks of the ``migrate`` flow: one Prefect task run per mailbox pair, secrets loaded inside.

The flow only ever handles :class:`MailboxJob` (addresses, hosts, ports: nothing secret). The
task re-reads the user list and the Secret block itself, builds the engine's
:class:`~onboarding.mailsync.MailboxPair`, takes the Prefect global concurrency slots (the
source host's connection cap and the pair's own limit of 1, so a second worker never syncs
the same pair at once, I10), calls the engine, and returns its outcome. It persists no result
and has no cache key, so no password reaches Prefect's storage.

Transient engine errors (``MailSyncError.transient``) are retried by Prefect with exponential
backoff and jitter; anything else (a wrong password, a folder that cannot be mapped) fails the
task at once with the engine's fix in the message.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import TaskRun
from prefect.concurrency.sync import concurrency
from prefect.states import State
from prefect.tasks import exponential_backoff

from onboarding.mailsync import (
    Endpoint,
    MailboxOutcome,
    MailboxPair,
    StateStore,
    SyncOptions,
    SyncPlan,
    SyncProgress,
    plan,
    sync_mailbox,
)
from onboarding.mailsync.models import PassKind
from tasks.secrets import load_secret
from validation.spec import OnboardingSpec, load_spec
from validation.users import (
    UserCredentials,
    UserListInvalidError,
    ValidatedUser,
    read_user_credentials,
    validate_user_list,
)

__all__ = [
    "BOARD",
    "MailboxJob",
    "MigrationError",
    "ProgressBoard",
    "build_jobs",
    "build_pair",
    "credentials_for",
    "ensure_concurrency_limits",
    "is_transient",
    "plan_mailbox",
    "state_url",
    "sync_mailbox_task",
    "sync_options",
    "validated_users",
]

# Slot leases are renewed while a sync runs; a killed worker's slots free after this long.
_LEASE_SECONDS = 60.0


class _HasEmail(Protocol):
    @property
    def email(self) -> str: ...


U = TypeVar("U", bound=_HasEmail)


class MigrationError(ValueError):
    """Raised before any I/O when the spec or the user selection cannot be migrated."""


@dataclass(frozen=True)
class MailboxJob:
    """A mailbox pair as the flow sees it: everything but the passwords, safe to log."""

    mailbox: str
    source_host: str
    source_port: int
    source_account: str
    destination_host: str
    destination_port: int

    @property
    def key(self) -> str:
        """Same text as ``MailboxPair.key`` (the engine's state and lock identity)."""
        return (
            f"{self.source_host}:{self.source_port}/{self.source_account}"
            f"=>{self.destination_host}:{self.destination_port}/{self.mailbox}"
        )

    @property
    def pair_limit(self) -> str:
        """The global concurrency limit (size 1) that serialises syncs of this pair."""
        return "mailsync-pair-" + hashlib.sha256(self.key.encode()).hexdigest()[:20]

    @property
    def source_limit(self) -> str:
        """The global concurrency limit that caps connections to this source server."""
        return source_limit_name(self.source_host, self.source_port)


def source_limit_name(host: str, port: int) -> str:
    """``mailsync-source-<host>-<port>``; GCL names may not contain ``/ % & > <``."""
    safe = "".join(c if c.isalnum() or c in ".-_:" else "-" for c in host)
    return f"mailsync-source-{safe}-{port}"


def validated_users(spec: OnboardingSpec) -> tuple[ValidatedUser, ...]:
    """The user list's valid users (no passwords); a list with problems is refused."""
    report = validate_user_list(spec)
    if not report.valid:
        raise UserListInvalidError(
            f"{report.path}: {len(report.problems)} problem(s) in the user list; run "
            "`onboard validate` and fix them first",
            path=Path(report.path),
        )
    return report.users


def credentials_for(spec: OnboardingSpec, mailbox: str) -> UserCredentials:
    """Read one user's passwords from the CSV (call inside a task only)."""
    for user in read_user_credentials(spec):
        if user.email == mailbox:
            return user
    raise MigrationError(
        f"{spec.users_csv}: {mailbox} is no longer in the user list (it changed during the "
        "run); put the row back, or re-run with --users naming only listed addresses"
    )


def select_users(users: Sequence[U], wanted: Iterable[str] | None) -> tuple[U, ...]:
    """Return ``users`` filtered to ``wanted`` (all when None); unknown addresses are an error."""
    if wanted is None:
        return tuple(users)
    by_email = {u.email: u for u in users}
    picked: list[U] = []
    unknown: list[str] = []
    for address in wanted:
        address = address.strip().lower()
        if not address:
            continue
        if address in by_email:
            if by_email[address] not in picked:
                picked.append(by_email[address])
        else:
            unknown.append(address)
    if unknown:
        raise MigrationError(
            f"--users: {', '.join(unknown)} not in the user list; pass addresses from the CSV"
        )
    if not picked:
        raise MigrationError("--users: no address given; pass a@x,b@y or leave the option out")
    return tuple(picked)


def _require_source(spec: OnboardingSpec) -> None:
    if not spec.migration.enabled or spec.migration.source is None:
        raise MigrationError(
            "migration.enabled is false in the spec; set it to true and describe migration.source"
        )


def build_jobs(spec: OnboardingSpec, users: Sequence[ValidatedUser]) -> tuple[MailboxJob, ...]:
    """One job per user, in CSV order; no secret is read."""
    _require_source(spec)
    assert spec.migration.source is not None
    src = spec.migration.source
    return tuple(
        MailboxJob(
            mailbox=u.email,
            source_host=src.host,
            source_port=src.port,
            source_account=u.source_username or u.email,
            destination_host=spec.hosted.imap_host,
            destination_port=spec.hosted.imap_port,
        )
        for u in users
    )


def build_pair(
    spec: OnboardingSpec,
    user: UserCredentials,
    *,
    secret: Callable[[str], str] = load_secret,
) -> MailboxPair:
    """Return the engine's pair with both logins (master mode reads the Secret block)."""
    _require_source(spec)
    assert spec.migration.source is not None
    src = spec.migration.source
    account = user.source_username or user.email
    if src.auth.mode == "master":
        assert src.auth.master_user and src.auth.password_secret  # the spec validator says so
        login = f"{account}{src.auth.master_separator}{src.auth.master_user}"
        source_password = secret(src.auth.password_secret)
    else:
        login = account
        source_password = (user.source_password or user.password).get_secret_value()
    return MailboxPair(
        mailbox=user.email,
        source=Endpoint(
            host=src.host, port=src.port, tls=src.tls.value, login=login, password=source_password
        ),
        destination=Endpoint(
            host=spec.hosted.imap_host,
            port=spec.hosted.imap_port,
            tls=spec.hosted.imap_tls.value,
            login=user.email,
            password=user.password.get_secret_value(),
        ),
    )


def sync_options(spec: OnboardingSpec, pass_kind: PassKind) -> SyncOptions:
    """The engine options the spec asks for."""
    m = spec.migration
    return SyncOptions(
        pass_kind=pass_kind,
        exclude_trash_and_junk=m.exclude_trash_and_junk,
        exclude_folders=tuple(m.exclude_folders),
        folder_renames=dict(m.folder_renames),
        max_message_bytes=m.max_message_bytes,
        max_retries=m.reconnect_retries,
        byte_budget=None if m.byte_budget_per_pass_mb is None else m.byte_budget_per_pass_mb << 20,
    )


def state_url(spec: OnboardingSpec) -> str:
    """``migration.state_url``, else a SQLite file next to the customer's run folders."""
    if spec.migration.state_url:
        return spec.migration.state_url
    path = (Path(spec.output_dir) / spec.customer_slug / "mailsync-state.db").resolve()
    return f"sqlite:///{path}"


def _open_state(url: str) -> StateStore:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return StateStore(url)


# -- progress ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxDone:
    """A mailbox finished (``outcome``) or failed for good (``error``)."""

    mailbox: str
    outcome: MailboxOutcome | None
    error: str | None


ProgressEvent = SyncProgress | MailboxDone


class ProgressBoard:
    """Process-wide fan-out of engine progress ticks to listeners (the CLI's display).

    Task runs execute in this process's thread pool, so a listener registered by the command
    line sees every tick; nothing here is persisted or sent to Prefect.
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[ProgressEvent], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[ProgressEvent], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[ProgressEvent], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def publish(self, event: ProgressEvent) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)


BOARD = ProgressBoard()


# -- Prefect ----------------------------------------------------------------------------------


def is_transient(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only errors the engine marks transient (network, throttling, a held lease)."""
    try:
        state.result()
    except Exception as exc:
        return bool(getattr(exc, "transient", False))
    return False


@task(name="ensure-concurrency-limits", persist_result=False, cache_policy=NO_CACHE)
def ensure_concurrency_limits(jobs: Sequence[MailboxJob], per_source_host: int) -> list[str]:
    """Create (or resize) the source hosts' connection caps and each pair's limit of 1."""
    wanted: dict[str, int] = {}
    for job in jobs:
        wanted[job.source_limit] = per_source_host
        wanted[job.pair_limit] = 1
    with get_client(sync_client=True) as client:
        for name, limit in wanted.items():
            client.upsert_global_concurrency_limit_by_name(name, limit)
    return sorted(wanted)


def retry_policy(retries: int, backoff_seconds: float) -> dict[str, Any]:
    """Task options: exponential backoff with jitter, transient errors only."""
    return {
        "retries": retries,
        "retry_delay_seconds": exponential_backoff(backoff_factor=backoff_seconds),
        "retry_jitter_factor": 0.5,
        "retry_condition_fn": is_transient,
    }


@task(
    name="sync-mailbox",
    task_run_name="sync {job.mailbox}",
    persist_result=False,
    cache_policy=NO_CACHE,
    **retry_policy(3, 10.0),
)
def sync_mailbox_task(job: MailboxJob, spec_path: Path, pass_kind: PassKind) -> MailboxOutcome:
    """Copy one mailbox pair; takes the host and pair slots for the whole session."""
    spec = load_spec(spec_path)
    pair = build_pair(spec, credentials_for(spec, job.mailbox))
    with concurrency(
        [job.source_limit, job.pair_limit],
        occupy=1,
        strict=True,
        lease_duration=_LEASE_SECONDS,
    ):
        return sync_mailbox(
            pair,
            sync_options(spec, pass_kind),
            _open_state(state_url(spec)),
            progress=BOARD.publish,
        )


def plan_mailbox(spec: OnboardingSpec, user: UserCredentials, pass_kind: PassKind) -> SyncPlan:
    """The engine's dry run for one user; writes nothing (no state DB, no Prefect)."""
    return plan(build_pair(spec, user), sync_options(spec, pass_kind))
