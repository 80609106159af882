"""Runbook phase 2: create every mailbox, with bounded concurrency and per-account retries.

There is no bulk endpoint (contract §3.1, §6.7), so this lists each domain's accounts once
(paged GETs), then POSTs only the missing ones from ``concurrency`` threads. A re-run of a
complete customer therefore sends no write request. Per account: the client retries 429/5xx
and dropped connections with backoff; if that is not enough the account is tried again up to
``attempts`` times; a 400 is permanent for that account only; a 401/403 stops everything.
An ambiguous failure is resolved by looking the account up (contract §6.1).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from pydantic import SecretStr

from onboarding.controlpanel._client import ControlPanelClient
from onboarding.controlpanel._exceptions import (
    AuthenticationFailed,
    ControlPanelError,
    PermissionDenied,
    RateLimited,
    ServerError,
    TransportError,
    ValidationFailed,
)
from onboarding.controlpanel._models import NewEmailAccount, uri_id
from onboarding.controlpanel._results import AccountResult, AccountsReport, Outcome

__all__ = ["Credential", "provision_accounts"]

log = logging.getLogger(__name__)

_TRANSIENT = (RateLimited, ServerError, TransportError)


class Credential(Protocol):
    """One user's address and new password (``validation.users.UserCredentials`` fits)."""

    @property
    def email(self) -> str: ...

    @property
    def password(self) -> SecretStr: ...


def _reason(exc: ControlPanelError) -> str:
    if isinstance(exc, ValidationFailed) and exc.field_errors:
        fields = "; ".join(f"{f}: {' '.join(m)}" for f, m in sorted(exc.field_errors.items()))
        return f"the control panel refused it (400): {fields}"
    return str(exc)


class _Run:
    def __init__(
        self,
        cp: ControlPanelClient,
        attempts: int,
        progress: Callable[[int, int], None] | None,
        total: int,
        send_welcome: bool = False,
    ) -> None:
        self.send_welcome = send_welcome
        self.cp = cp
        self.attempts = attempts
        self.progress = progress
        self.total = total
        self.done = 0
        self.lock = threading.Lock()
        self.stop: ControlPanelError | None = None

    def _exists(self, domain_uri: str, localpart: str) -> bool:
        found = self.cp.email_accounts.find(domain=uri_id(domain_uri), localpart=localpart)
        return found is not None

    def create(self, cred: Credential, domain_uri: str) -> AccountResult:
        localpart = cred.email.rsplit("@", 1)[0].strip().lower()
        new = NewEmailAccount(
            domain=domain_uri,
            localpart=localpart,
            password=cred.password,
            send_welcome=self.send_welcome,
        )
        result: AccountResult | None = None
        attempt = 0
        while result is None:
            attempt += 1
            if self.stop is not None:
                result = AccountResult(
                    cred.email, Outcome.FAILED, reason=f"not attempted: {self.stop}"
                )
                break
            try:
                self.cp.email_accounts.create(new)
                result = AccountResult(cred.email, Outcome.CREATED, attempts=attempt)
            except (AuthenticationFailed, PermissionDenied) as exc:
                self.stop = exc
                raise
            except ControlPanelError as exc:
                # A duplicate (our earlier try landed, or a concurrent run) looks like this.
                try:
                    if self._exists(domain_uri, localpart):
                        result = AccountResult(
                            cred.email,
                            Outcome.CREATED,
                            reason="created by an earlier try whose answer was lost",
                            attempts=attempt,
                        )
                        break
                except _TRANSIENT:
                    pass
                if isinstance(exc, _TRANSIENT) and attempt < self.attempts:
                    log.info("%s: %s; trying again", cred.email, type(exc).__name__)
                    continue
                result = AccountResult(
                    cred.email, Outcome.FAILED, reason=_reason(exc), attempts=attempt
                )
        with self.lock:
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)
        return result


def provision_accounts(
    cp: ControlPanelClient,
    credentials: Sequence[Credential],
    domains: Mapping[str, str | None],
    *,
    blocked: Mapping[str, str] | None = None,
    concurrency: int = 4,
    attempts: int = 3,
    send_welcome: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> AccountsReport:
    """Create every missing account; return one result per credential, in input order.

    ``domains`` maps a domain name to its resource URI (None if it could not be set up, with
    the reason in ``blocked``). Raises AuthenticationFailed/PermissionDenied at once.
    """
    if concurrency < 1 or attempts < 1:
        raise ValueError("concurrency and attempts must be at least 1")
    blocked = blocked or {}
    results: list[AccountResult | None] = [None] * len(credentials)
    existing: dict[str, set[str]] = {}
    for name, uri in domains.items():
        if uri is not None:
            existing[name] = {a.localpart for a in cp.email_accounts.list(domain=uri_id(uri))}
    todo: list[tuple[int, Credential, str]] = []
    for i, cred in enumerate(credentials):
        localpart, _, domain = cred.email.strip().lower().rpartition("@")
        uri = domains.get(domain)
        if uri is None:
            why = blocked.get(domain) or f"domain {domain} is not in the spec"
            results[i] = AccountResult(cred.email, Outcome.FAILED, reason=why)
        elif localpart in existing[domain]:
            results[i] = AccountResult(cred.email, Outcome.EXISTED)
        else:
            todo.append((i, cred, uri))
    log.info(
        "accounts: %d in the list, %d already exist, %d to create",
        len(credentials),
        sum(1 for r in results if r is not None and r.outcome is Outcome.EXISTED),
        len(todo),
    )
    run = _Run(cp, attempts, progress, len(todo), send_welcome)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="provision") as pool:
        futures = [(i, pool.submit(run.create, cred, uri)) for i, cred, uri in todo]
        for i, future in futures:
            results[i] = future.result()  # re-raises AuthenticationFailed
    final = tuple(r for r in results if r is not None)
    assert len(final) == len(credentials)
    return AccountsReport(final, requests=cp.requests_made)
