"""Runbook phase 2, aliases: give each mailbox the other localparts that deliver to it.

Once the accounts exist, this lists each domain's accounts once (paged GETs); an account's
read-only ``aliases`` field is its alias localparts, comma-joined (contract §2.6). Only the
missing aliases are POSTed to ``localpart_alias`` (§2.7), ``concurrency`` at a time, so a
re-run of a complete customer sends no write request. Retries follow the accounts: the client
retries 429/5xx and dropped connections; an alias is tried again up to ``attempts`` times; a
400 is permanent for that alias only; a 401/403 stops everything. An ambiguous failure is
resolved by reading the account's aliases (``localpart_alias?email_account=<id>``, §6.1). A
domain whose listing fails fails only its own aliases, with the reason.

A refused create costs two filtered GETs (the account's aliases, ``email_account?domain=&
localpart=``), never a re-read of the domain: with thousands of accounts that would be dozens
of pages per refused alias. The contract cannot filter aliases by localpart (§1.3), so an alias
another account took after the listing is reported as the panel's refusal, not as a conflict.

An alias that already delivers to another account of the domain, or that is a mailbox of its
own, is a conflict: it is reported with the action to take and never moved or deleted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from onboarding.controlpanel._accounts import _TRANSIENT, _reason
from onboarding.controlpanel._client import ControlPanelClient
from onboarding.controlpanel._exceptions import (
    AuthenticationFailed,
    ControlPanelError,
    PermissionDenied,
)
from onboarding.controlpanel._models import EmailAccount, NewLocalpartAlias, uri_id
from onboarding.controlpanel._results import AliasesReport, AliasResult, Outcome

__all__ = ["AliasOwner", "provision_aliases"]

log = logging.getLogger(__name__)


class AliasOwner(Protocol):
    """A mailbox and its alias localparts (``validation.users.ValidatedUser`` fits)."""

    @property
    def email(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class _Domain:
    """One domain as the control panel has it: accounts by localpart, alias → its account."""

    name: str
    uri: str
    accounts: dict[str, EmailAccount]
    owners: dict[str, str]


@dataclass(frozen=True)
class _Todo:
    index: int
    alias: str  # localpart
    account: EmailAccount
    email: str
    domain: _Domain

    @property
    def address(self) -> str:
        return f"{self.alias}@{self.domain.name}"


def _read_domain(cp: ControlPanelClient, name: str, uri: str) -> _Domain:
    accounts = {a.localpart: a for a in cp.email_accounts.list(domain=uri_id(uri))}
    owners = {
        alias.strip(): a.localpart
        for a in accounts.values()
        for alias in a.aliases.split(",")
        if alias.strip()
    }
    return _Domain(name, uri, accounts, owners)


def _conflict(address: str, email: str, owner: str) -> AliasResult:
    """The alias delivers to ``owner`` (another account) already: say so, never move it."""
    return AliasResult(
        address,
        email,
        Outcome.CONFLICT,
        reason=f"{address} already delivers to {owner} in the control panel",
        action=f"if it should deliver to {email}, remove it from {owner} in the control panel "
        f"and re-run; otherwise delete it from {email}'s aliases in the user list "
        "(provisioning never moves an alias)",
    )


def _mailbox_conflict(address: str, email: str) -> AliasResult:
    return AliasResult(
        address,
        email,
        Outcome.CONFLICT,
        reason=f"{address} is a mailbox of its own in the control panel",
        action=f"delete it from {email}'s aliases in the user list, or (after moving its mail) "
        "delete that mailbox in the control panel and re-run",
    )


class _Run:
    def __init__(self, cp: ControlPanelClient, attempts: int) -> None:
        self.cp = cp
        self.attempts = attempts
        self.lock = threading.Lock()
        self.stop: ControlPanelError | None = None

    def _has(self, todo: _Todo) -> bool:
        found = self.cp.localpart_aliases.list(email_account=uri_id(todo.account.resource_uri))
        return any(a.localpart == todo.alias for a in found)

    def _is_mailbox(self, todo: _Todo) -> bool:
        """Whether the alias's address became a mailbox since the listing (one filtered GET)."""
        found = self.cp.email_accounts.find(domain=uri_id(todo.domain.uri), localpart=todo.alias)
        return found is not None

    def create(self, todo: _Todo) -> AliasResult:
        new = NewLocalpartAlias(email_account=todo.account.resource_uri, localpart=todo.alias)
        attempt = 0
        while True:
            attempt += 1
            if self.stop is not None:
                return AliasResult(
                    todo.address, todo.email, Outcome.FAILED, reason=f"not attempted: {self.stop}"
                )
            try:
                self.cp.localpart_aliases.create(new)
                return AliasResult(todo.address, todo.email, Outcome.CREATED, attempts=attempt)
            except (AuthenticationFailed, PermissionDenied) as exc:
                self.stop = exc
                raise
            except ControlPanelError as exc:
                transient = isinstance(exc, _TRANSIENT)
                try:
                    if self._has(todo):  # our earlier try landed, its answer was lost
                        return AliasResult(
                            todo.address,
                            todo.email,
                            Outcome.CREATED,
                            reason="created by an earlier try whose answer was lost",
                            attempts=attempt,
                        )
                    mailbox = not transient and self._is_mailbox(todo)
                except (AuthenticationFailed, PermissionDenied) as probe:
                    self.stop = probe
                    raise
                except ControlPanelError:  # the create's own error is the reason to report
                    mailbox = False
                if mailbox:
                    return _mailbox_conflict(todo.address, todo.email)
                if transient and attempt < self.attempts:
                    log.info("%s: %s; trying again", todo.address, type(exc).__name__)
                    continue
                return AliasResult(
                    todo.address, todo.email, Outcome.FAILED, reason=_reason(exc), attempts=attempt
                )


def provision_aliases(
    cp: ControlPanelClient,
    owners: Sequence[AliasOwner],
    domains: Mapping[str, str | None],
    *,
    blocked: Mapping[str, str] | None = None,
    missing: Mapping[str, str] | None = None,
    concurrency: int = 4,
    attempts: int = 3,
) -> AliasesReport:
    """Create every missing alias; return one result per (account, alias), in input order.

    ``domains`` maps a domain name to its resource URI (None if it could not be set up, with
    the reason in ``blocked``); ``missing`` maps an account address to why it was not
    created. Only domains with aliases to give are read; one whose listing fails fails its
    aliases with the reason. Raises AuthenticationFailed and PermissionDenied at once.
    """
    if concurrency < 1 or attempts < 1:
        raise ValueError("concurrency and attempts must be at least 1")
    blocked = blocked or {}
    missing = missing or {}
    wanted = [(o, a) for o in owners for a in dict.fromkeys(x.lower() for x in o.aliases)]
    results: list[AliasResult | None] = [None] * len(wanted)
    known: dict[str, _Domain | str] = {}  # name -> the domain, or why it could not be read
    todo: list[_Todo] = []
    planned: dict[str, str] = {}
    for i, (owner, alias) in enumerate(wanted):
        email = owner.email.strip().lower()
        localpart, _, name = email.rpartition("@")
        address = f"{alias}@{name}"
        uri = domains.get(name)
        if uri is None:
            why = blocked.get(name) or f"domain {name} is not in the spec"
            results[i] = AliasResult(address, email, Outcome.FAILED, reason=why)
            continue
        if name not in known:
            try:
                known[name] = _read_domain(cp, name, uri)
            except (AuthenticationFailed, PermissionDenied):
                raise
            except ControlPanelError as exc:
                log.warning("aliases of %s: listing its accounts failed: %s", name, exc)
                known[name] = f"listing the accounts of {name} failed: {_reason(exc)}"
        domain = known[name]
        if isinstance(domain, str):
            results[i] = AliasResult(address, email, Outcome.FAILED, reason=domain)
            continue
        account = domain.accounts.get(localpart)
        current = domain.owners.get(alias)
        if account is None:
            why = f"the mailbox {email} does not exist"
            if email in missing:
                why += f" (creating it failed: {missing[email]})"
            results[i] = AliasResult(
                address, email, Outcome.FAILED, reason=f"{why}; fix the mailbox and re-run"
            )
        elif current == localpart:
            results[i] = AliasResult(address, email, Outcome.EXISTED)
        elif current is not None:
            results[i] = _conflict(address, email, f"{current}@{name}")
        elif alias in domain.accounts:
            results[i] = _mailbox_conflict(address, email)
        elif planned.setdefault(address, email) != email:  # listed twice: the first one wins
            results[i] = _conflict(address, email, planned[address])
        else:
            todo.append(_Todo(i, alias, account, email, domain))
    log.info(
        "aliases: %d in the list, %d already exist, %d to create",
        len(wanted),
        sum(1 for r in results if r is not None and r.outcome is Outcome.EXISTED),
        len(todo),
    )
    run = _Run(cp, attempts)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="aliases") as pool:
        futures = [(t.index, pool.submit(run.create, t)) for t in todo]
        for i, future in futures:
            results[i] = future.result()  # re-raises AuthenticationFailed
    final = tuple(r for r in results if r is not None)
    assert len(final) == len(wanted)
    return AliasesReport(final, requests=cp.requests_made)
