"""Credentials in memory, read once per flow run and per process: never a parameter or result.

A flow loads its customer once (:func:`tasks.customer.load_customer`); that read of the user
CSV gives both the validated users the flow passes to its tasks and the passwords, which go
into a :class:`Vault` held in a context variable. Prefect copies the context into every task
it runs in this process (thread pool included), so each task finds the passwords and the
Secret-block values it needs without reading the CSV or the API again. A task that runs in
another process (a worker running a batch) finds no vault for its flow run and reads once
there.

Nothing here is persisted or logged: the vault is not a task parameter, not a result, not a
cache key, and it belongs to one flow run id, so a later flow run in the same process never
sees an earlier run's values.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import TypeVar, cast

from prefect.runtime import flow_run

from tasks.secrets import load_secret
from validation.spec import OnboardingSpec
from validation.users import UserCredentials, load_user_list, require_valid

T = TypeVar("T")

__all__ = ["Vault", "current_vault", "open_vault"]


class Vault:
    """One flow run's passwords (by address) and Secret-block values, loaded lazily, once."""

    def __init__(
        self,
        run_id: str | None,
        credentials: tuple[UserCredentials, ...] | None = None,
        *,
        secret: Callable[[str], str] | None = None,
        team_api: str | None = None,
    ) -> None:
        self.run_id = run_id
        self._lock = threading.Lock()
        self._credentials = None if credentials is None else self._index(credentials)
        self._secrets: dict[str, str] = {}
        self._shared: dict[str, object] = {}
        self._load_secret = secret or functools.partial(load_secret, team_api=team_api)

    @staticmethod
    def _index(credentials: tuple[UserCredentials, ...]) -> Mapping[str, UserCredentials]:
        return MappingProxyType({c.email: c for c in credentials})

    def credentials(self, spec: OnboardingSpec) -> Mapping[str, UserCredentials]:
        """Every valid user's passwords by address (the CSV is read here only on a miss)."""
        with self._lock:
            if self._credentials is None:
                report, found = load_user_list(spec)
                require_valid(report)
                self._credentials = self._index(found)
            return self._credentials

    def secret(self, block_name: str) -> str:
        """The value of Secret block ``block_name`` (or its ``ONBOARD_SECRET_*`` stand-in)."""
        with self._lock:
            if block_name not in self._secrets:
                self._secrets[block_name] = self._load_secret(block_name)
            return self._secrets[block_name]

    def shared(self, key: str, make: Callable[[], T]) -> T:
        """One object per ``key`` for this run, made on first use (the OAuth token source,
        so every mailbox of the run shares its cached tokens)."""
        with self._lock:
            if key in self._shared:
                return cast(T, self._shared[key])
        made = make()  # outside the lock: ``make`` may read secrets through this vault
        with self._lock:
            return cast(T, self._shared.setdefault(key, made))

    def __repr__(self) -> str:
        return f"Vault(run_id={self.run_id!r})"  # never the values


_VAULT: ContextVar[Vault | None] = ContextVar("onboarding_vault", default=None)


def _run_id() -> str | None:
    return flow_run.get_id()


def open_vault(
    credentials: tuple[UserCredentials, ...] | None = None, *, team_api: str | None = None
) -> Vault:
    """Start this flow run's vault (called once, by ``load_customer``) and return it;
    ``team_api``: Secret blocks are read only there (:func:`tasks.secrets.load_secret`)."""
    vault = Vault(_run_id(), credentials, team_api=team_api)
    _VAULT.set(vault)
    return vault


def current_vault() -> Vault:
    """This flow run's vault; a fresh one when this process has none for the run yet."""
    vault = _VAULT.get()
    run_id = _run_id()
    if vault is None or vault.run_id != run_id:
        vault = Vault(run_id)
        _VAULT.set(vault)
    return vault
