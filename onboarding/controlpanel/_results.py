"""What provisioning did, one record per object: the report's vocabulary.

Every object ends in exactly one :class:`Outcome`; counts reconcile with the input.
``conflict`` means something exists with other settings than the spec asks for: it is never
changed or retried, and ``action`` says what a person must do.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

__all__ = [
    "AccountResult",
    "AccountsReport",
    "AliasResult",
    "AliasesReport",
    "DomainSetup",
    "LoginCheck",
    "LoginResult",
    "ObjectResult",
    "Outcome",
    "SetupResult",
]


class Outcome(StrEnum):
    """How one object ended."""

    CREATED = "created"
    EXISTED = "already existed"
    FAILED = "failed"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class ObjectResult:
    """A customer, domain or mail server: what happened and, for a conflict, what to do."""

    kind: str
    name: str
    outcome: Outcome
    detail: str = ""
    action: str = ""


@dataclass(frozen=True)
class DomainSetup:
    """One domain and its routing; ``uri`` is None when accounts cannot be created in it."""

    domain: ObjectResult
    routing: tuple[ObjectResult, ...] = ()
    uri: str | None = None
    blocked_reason: str = ""


@dataclass(frozen=True)
class SetupResult:
    """The customer and its domains (runbook phase 1, control-panel part)."""

    customer: ObjectResult
    domains: tuple[DomainSetup, ...] = ()
    customer_uri: str | None = None

    @property
    def objects(self) -> tuple[ObjectResult, ...]:
        out = [self.customer]
        for d in self.domains:
            out.append(d.domain)
            out.extend(d.routing)
        return tuple(out)

    @property
    def conflicts(self) -> tuple[ObjectResult, ...]:
        return tuple(o for o in self.objects if o.outcome in (Outcome.CONFLICT, Outcome.FAILED))

    @property
    def writes_needed(self) -> bool:
        return any(o.outcome is Outcome.CREATED for o in self.objects)

    @property
    def domain_uris(self) -> dict[str, str | None]:
        """Each domain's resource URI by name; None where accounts cannot be created in it."""
        return {d.domain.name: d.uri for d in self.domains}

    @property
    def blocked(self) -> dict[str, str]:
        """Why each domain without a URI takes no accounts, by domain name."""
        return {d.domain.name: d.blocked_reason for d in self.domains if d.uri is None}


class LoginCheck(Protocol):
    """One account's login attempt as the mail-flow engine reports it
    (``onboarding.mailflow.AccountCheck`` fits): the address, ok, or the reason it failed."""

    @property
    def email(self) -> str: ...

    @property
    def ok(self) -> bool: ...

    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True)
class LoginResult:
    """Whether one account logged in to the hosted IMAP with its password."""

    ok: bool
    error: str = ""

    @classmethod
    def of(cls, check: LoginCheck) -> LoginResult:
        """The report's login proof for one :class:`LoginCheck`."""
        return cls(check.ok, "" if check.ok else check.error or "login failed")


@dataclass(frozen=True)
class AccountResult:
    """One mailbox: created / already existed / failed (with reason), and its login proof."""

    email: str
    outcome: Outcome
    reason: str = ""
    attempts: int = 0
    login: LoginResult | None = None


class _Outcomed(Protocol):
    @property
    def outcome(self) -> Outcome: ...


T = TypeVar("T", bound=_Outcomed)


class _Tally(Generic[T]):
    """What the accounts and aliases reports count alike: one outcome per item, reconciled."""

    _counted: ClassVar[tuple[Outcome, ...]] = tuple(Outcome)
    requests: dict[str, int]

    @property
    def items(self) -> tuple[T, ...]:
        raise NotImplementedError

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(item.outcome.value for item in self.items)
        return {o.value: found.get(o.value, 0) for o in self._counted}

    @property
    def failed(self) -> tuple[T, ...]:
        return tuple(item for item in self.items if item.outcome is Outcome.FAILED)

    @property
    def reconciles(self) -> bool:
        return sum(self.counts.values()) == len(self.items)

    def summary(self) -> dict[str, Any]:
        """The totals as ``--format json`` shows them: items, each outcome, HTTP requests."""
        return {
            "total": len(self.items),
            **self.counts,
            "reconciles": self.reconciles,
            "http_requests": self.requests,
        }


@dataclass(frozen=True)
class AccountsReport(_Tally[AccountResult]):
    """Every account's result, in input order, with counts that reconcile."""

    _counted: ClassVar[tuple[Outcome, ...]] = tuple(o for o in Outcome if o is not Outcome.CONFLICT)
    accounts: tuple[AccountResult, ...]
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> tuple[AccountResult, ...]:
        return self.accounts

    @property
    def logins_ok(self) -> int:
        return sum(1 for a in self.accounts if a.login is not None and a.login.ok)

    @property
    def logins_failed(self) -> int:
        return sum(1 for a in self.accounts if a.login is not None and not a.login.ok)

    def with_logins(self, checks: Iterable[LoginCheck]) -> AccountsReport:
        """This report with each checked account's login proof; others are left as they are."""
        found = {c.email: LoginResult.of(c) for c in checks}
        accounts = tuple(
            dataclasses.replace(a, login=found[a.email]) if a.email in found else a
            for a in self.accounts
        )
        return dataclasses.replace(self, accounts=accounts)


@dataclass(frozen=True)
class AliasResult:
    """One alias (``sales@acme.test``) of one account: its outcome, why, and what to do."""

    alias: str
    account: str
    outcome: Outcome
    reason: str = ""
    action: str = ""
    attempts: int = 0


@dataclass(frozen=True)
class AliasesReport(_Tally[AliasResult]):
    """Every alias's result, in user-list order, with counts that reconcile."""

    aliases: tuple[AliasResult, ...] = ()
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> tuple[AliasResult, ...]:
        return self.aliases

    @property
    def conflicts(self) -> tuple[AliasResult, ...]:
        return tuple(a for a in self.aliases if a.outcome is Outcome.CONFLICT)
