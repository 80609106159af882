"""The post-cutover verification report (runbook phase 4) and its open issues.

Folds five checks into one list a person works through: every account's hosted IMAP login
(with its INBOX count), a mail-flow probe per domain, a probe per alias (found in its owner's
INBOX), the DNS checks (MX, SPF, DKIM, DMARC), and the client-configuration lookups
(Thunderbird's autoconfig and Outlook's autodiscover, by the published names). An open issue
is anything that failed; DNS warnings, and on the follow-up what the catch-up passes brought,
are listed as notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onboarding.clientconfig import LookupResult
from onboarding.cutover.catchup import CatchupPass
from onboarding.dnscheck import CheckReport, Severity
from onboarding.mailflow import AccountCheck, ProbeResult
from onboarding.reports import markdown_table

__all__ = ["ACCOUNT_COLUMNS", "ISSUE_COLUMNS", "VerificationReport"]

ACCOUNT_COLUMNS = ("email", "ok", "messages", "error")
ISSUE_COLUMNS = ("area", "subject", "problem", "fix")


def probe_cells(p: ProbeResult) -> tuple[str, str, str]:
    """A probe's table cells: delivered, seconds until found, problem (``yes``, ``1.2``, ``""``)."""
    seconds = "" if p.seconds is None else f"{p.seconds:.1f}"
    return ("yes" if p.delivered else "no", seconds, p.error or "")


def _probe_table(
    heading: str, subject: str, probes: Sequence[tuple[str | None, ProbeResult]]
) -> list[str]:
    """A markdown section, one row per (subject, probe): ``| x.test | yes | 1.2 |  |``."""
    table = markdown_table(
        (subject, "delivered", "seconds until found", "problem"),
        ((name, *probe_cells(p)) for name, p in probes),
    )
    return ["", f"## {heading}", "", *table]


@dataclass(frozen=True)
class VerificationReport:
    """Every check of one verification run."""

    customer: str
    checked_at: datetime
    followup: bool
    accounts: tuple[AccountCheck, ...]
    probes: tuple[ProbeResult, ...]
    dns: CheckReport | None
    dns_error: str | None = None
    alias_probes: tuple[ProbeResult, ...] = ()
    client_config: tuple[LookupResult, ...] = ()
    catchup: tuple[CatchupPass, ...] = ()  # migrate passes since the cutover (follow-up)
    catchup_due: bool = False  # a follow-up of a migrated customer: catch-up passes expected

    @property
    def logins_ok(self) -> int:
        return sum(1 for a in self.accounts if a.ok)

    @property
    def issues(self) -> tuple[dict[str, str], ...]:
        """Open issues, one row each: area, subject, problem, fix."""
        rows = [
            {
                "area": "login",
                "subject": a.email,
                "problem": a.error or "login failed",
                "fix": "check the account and its password in the control panel",
            }
            for a in self.accounts
            if not a.ok
        ]
        rows += [
            {
                "area": "mail flow",
                "subject": p.domain,
                "problem": p.error or "not delivered",
                "fix": "check the domain's routing and hold in the control panel and the "
                "gateway's queue",
            }
            for p in self.probes
            if not p.delivered
        ]
        rows += [
            {
                "area": "alias",
                "subject": p.recipient or "",
                "problem": p.error or "not delivered",
                "fix": "if the owner's login is refused, fix the account first; otherwise run "
                "`onboard provision` (it creates missing aliases) and check the alias in the "
                "control panel",
            }
            for p in self.alias_probes
            if not p.delivered
        ]
        rows += [
            {
                "area": "autoconfig" if r.client == "thunderbird" else "autodiscover",
                "subject": r.domain,
                "problem": r.error or "wrong settings",
                "fix": r.fix or "",
            }
            for r in self.client_config
            if not r.valid
        ]
        if self.dns_error:
            rows.append(
                {"area": "dns", "subject": "", "problem": self.dns_error, "fix": "re-run verify"}
            )
        failed = (
            [r for r in self.dns.results if r.status is Severity.FAIL]
            if self.dns is not None
            else []
        )
        for result in failed:
            problems = [(f.message, f.fix) for f in result.findings if f.severity is Severity.FAIL]
            if result.error:
                problems.append((result.error, ""))
            rows += [
                {"area": f"dns {result.check}", "subject": result.domain, "problem": p, "fix": fix}
                for p, fix in problems
            ]
        return tuple(rows)

    @property
    def catchup_text(self) -> str | None:
        """``2 catch-up pass(es) since the cutover brought 3 message(s): a@x 2, b@x 1``."""
        if not self.catchup:
            if self.catchup_due:
                return (
                    "no catch-up pass has run since the cutover: mail the old server received "
                    "after the switch is not copied yet (run `onboard migrate SPEC --pass "
                    "incremental`)"
                )
            return None
        brought: dict[str, int] = {}
        for p in self.catchup:
            for mailbox, n in p.mailboxes:
                brought[mailbox] = brought.get(mailbox, 0) + n
        total = sum(brought.values())
        failed = sum(1 for p in self.catchup if not p.ok)
        who = ": " + ", ".join(f"{m} {n}" for m, n in sorted(brought.items())) if brought else ""
        problems = f"; {failed} of them had problems (see failed-transfers)" if failed else ""
        return (
            f"{len(self.catchup)} catch-up pass(es) since the cutover brought {total} "
            f"message(s) from the old server{who}{problems}"
        )

    @property
    def notes(self) -> tuple[str, ...]:
        """DNS warnings and what the catch-up passes brought: worth a look, not blocking."""
        catchup = (self.catchup_text,) if self.catchup_text else ()
        if self.dns is None:
            return catchup
        return catchup + tuple(
            f"{r.domain} {r.check}: {f.message}"
            for r in self.dns.results
            for f in r.findings
            if f.severity is Severity.WARN
        )

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def summary(self) -> str:
        delivered = sum(1 for p in self.probes if p.delivered)
        dns = (
            "DNS not checked"
            if self.dns is None
            else f"DNS checks {sum(1 for r in self.dns.results if r.status is not Severity.FAIL)}"
            f"/{len(self.dns.results)} passed"
        )
        aliases = (
            f"{sum(1 for p in self.alias_probes if p.delivered)}/{len(self.alias_probes)} aliases; "
            if self.alias_probes
            else ""
        )
        clients = (
            f"; client set-up {sum(1 for r in self.client_config if r.valid)}"
            f"/{len(self.client_config)} lookups right"
            if self.client_config
            else ""
        )
        return (
            f"{self.logins_ok}/{len(self.accounts)} accounts log in; mail flows to "
            f"{delivered}/{len(self.probes)} domains; {aliases}{dns}{clients}; "
            f"{len(self.issues)} open issue(s)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "checked_at": self.checked_at.isoformat(),
            "followup": self.followup,
            "ok": self.ok,
            "summary": self.summary,
            "accounts": {
                "total": len(self.accounts),
                "ok": self.logins_ok,
                "failed": len(self.accounts) - self.logins_ok,
                "results": [a.to_dict() for a in self.accounts],
            },
            "mail_flow": [p.to_dict() for p in self.probes],
            "aliases": [p.to_dict() for p in self.alias_probes],
            "dns": self.dns.to_dict() if self.dns is not None else None,
            "client_config": [r.to_dict() for r in self.client_config],
            "open_issues": list(self.issues),
            "notes": list(self.notes),
            "catchup_passes": [p.to_dict() for p in self.catchup],
        }

    def markdown(self) -> str:
        title = "Follow-up verification" if self.followup else "Verification"
        lines = [
            f"# {title} of {self.customer}",
            "",
            f"Checked {self.checked_at:%Y-%m-%d %H:%M:%S} UTC: {self.summary}.",
            "",
            "## Open issues",
            "",
        ]
        if self.issues:
            lines += markdown_table(ISSUE_COLUMNS, self.issues)
        else:
            lines.append("None.")
        lines += _probe_table("Mail flow", "domain", [(p.domain, p) for p in self.probes])
        if self.alias_probes:
            lines += _probe_table("Aliases", "alias", [(p.recipient, p) for p in self.alias_probes])
        if self.dns is not None:
            lines += ["", "## DNS", ""]
            lines += markdown_table(
                ("domain", "check", "status"),
                ((r.domain, r.check, r.status) for r in self.dns.results),
            )
        if self.client_config:
            lines += ["", "## Client set-up (autoconfig, autodiscover)", ""]
            lines += markdown_table(
                ("domain", "client", "URL", "settings", "problem"),
                (
                    (
                        r.domain,
                        r.client,
                        r.url,
                        f"IMAP {r.imap}, SMTP {r.smtp}" if r.valid else "",
                        r.error or "",
                    )
                    for r in self.client_config
                ),
            )
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"
