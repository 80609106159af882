"""The verdict of one provisioning run: what it did, what is wrong, and how it ended.

Set-up, accounts and aliases each have their own report; :class:`ProvisioningReport` puts
them together and says, in one place, whether the run is fine (no conflict, no failed
account or alias, every account logs in), what its one-line message is, and the JSON that
``onboard provision --format json`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onboarding.controlpanel._report import setup_rows
from onboarding.controlpanel._results import AccountsReport, AliasesReport, Outcome, SetupResult

__all__ = ["ProvisioningReport"]


@dataclass(frozen=True)
class ProvisioningReport:
    """Set-up, then either accounts and aliases, or (self-service) neither."""

    customer_slug: str
    setup: SetupResult
    accounts: AccountsReport | None = None
    aliases: AliasesReport | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        """What needs an operator, one phrase each (empty when all is well)."""
        problems = []
        if self.setup.conflicts:
            problems.append(f"{len(self.setup.conflicts)} conflict(s) in customer/domains/routing")
        if self.accounts is not None:
            failed = self.accounts.counts[Outcome.FAILED.value]
            if failed:
                problems.append(f"{failed} of {len(self.accounts.accounts)} account(s) failed")
            if self.accounts.logins_failed:
                problems.append(f"{self.accounts.logins_failed} account(s) could not log in")
        if self.aliases is not None:
            a = self.aliases.counts
            if a[Outcome.CONFLICT.value]:
                problems.append(f"{a[Outcome.CONFLICT.value]} alias conflict(s)")
            if a[Outcome.FAILED.value]:
                problems.append(
                    f"{a[Outcome.FAILED.value]} of {len(self.aliases.aliases)} alias(es) failed"
                )
        return tuple(problems)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def ending(self) -> str:
        """The name of the run's final state: ``Completed``, ``NothingToCreate``, ``SelfService``
        or ``Failed``."""
        if not self.ok:
            return "Failed"
        if self.accounts is None:
            return "SelfService"
        created = self.accounts.counts[Outcome.CREATED.value]
        if self.aliases is not None:
            created += self.aliases.counts[Outcome.CREATED.value]
        return "NothingToCreate" if not self.setup.writes_needed and created == 0 else "Completed"

    @property
    def message(self) -> str:
        if not self.ok:
            return "; ".join(self.problems) + f" (see provisioning-{self.customer_slug})"
        if self.accounts is None:
            return "self-service instructions written"
        c = self.accounts.counts
        a = self.aliases.counts if self.aliases is not None else {o.value: 0 for o in Outcome}
        return (
            f"{c[Outcome.CREATED.value]} created, {c[Outcome.EXISTED.value]} already existed, "
            f"{self.accounts.logins_ok} logins proven; aliases: {a[Outcome.CREATED.value]} "
            f"created, {a[Outcome.EXISTED.value]} already existed"
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as ``--format json`` shows it (besides ``ok``, ``message``, folder)."""
        data: dict[str, Any] = {
            "setup": setup_rows(self.setup),
            "conflicts": len(self.setup.conflicts),
        }
        if self.accounts is not None:
            accounts = self.accounts
            data["accounts"] = {
                **accounts.summary(),
                "logins_ok": accounts.logins_ok,
                "logins_failed": accounts.logins_failed,
            }
            data["failed"] = [{"email": a.email, "reason": a.reason} for a in accounts.failed]
        if self.aliases is not None:
            aliases = self.aliases
            data["aliases"] = aliases.summary()
            data["alias_problems"] = [
                {
                    "alias": a.alias,
                    "account": a.account,
                    "result": a.outcome.value,
                    "reason": a.reason,
                    "action": a.action,
                }
                for a in aliases.conflicts + aliases.failed
            ]
        return data
