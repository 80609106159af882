"""Turn provisioning results into what people read: table rows, a summary, instructions.

Pure functions over the result models; the task layer publishes them as artifacts and
writes them to the run folder. Nothing here ever sees a password.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from onboarding.controlpanel._results import AccountsReport, AliasesReport, Outcome, SetupResult
from onboarding.reports import markdown_table

__all__ = [
    "ACCOUNT_COLUMNS",
    "ALIAS_COLUMNS",
    "SETUP_COLUMNS",
    "account_rows",
    "alias_rows",
    "self_service_markdown",
    "setup_rows",
    "summary_markdown",
]

ACCOUNT_COLUMNS = ("email", "result", "reason", "attempts", "imap_login")
SETUP_COLUMNS = ("kind", "name", "result", "detail", "action")
ALIAS_COLUMNS = ("alias", "account", "result", "reason", "action", "attempts")


def _row(result: Any, columns: Sequence[str], **given: str) -> dict[str, str]:
    """One report row of ``result``: each column its attribute as text, ``result`` its outcome,
    unless ``given`` holds the column (``imap_login="ok"``)."""
    row: dict[str, str] = {}
    for column in columns:
        if column in given:
            row[column] = given[column]
        elif column == "result":
            row[column] = result.outcome.value
        else:
            row[column] = str(getattr(result, column))
    return row


def account_rows(
    report: AccountsReport, aliases: AliasesReport | None = None
) -> list[dict[str, str]]:
    """One row per account: email, result, reason, attempts, imap_login (ok/failed/-).

    With ``aliases``, an ``aliases`` column too: ``"sales (created); info (conflict)"``.
    """
    by_account: dict[str, list[str]] = {}
    for r in aliases.aliases if aliases is not None else ():
        by_account.setdefault(r.account, []).append(
            f"{r.alias.rpartition('@')[0]} ({r.outcome.value})"
        )
    rows = []
    for a in report.accounts:
        if a.login is None:
            login = "-"
        elif a.login.ok:
            login = "ok"
        else:
            login = f"failed: {a.login.error}"
        rows.append(_row(a, ACCOUNT_COLUMNS, imap_login=login))
        if aliases is not None:
            rows[-1]["aliases"] = "; ".join(by_account.get(a.email.strip().lower(), ()))
    return rows


def alias_rows(report: AliasesReport) -> list[dict[str, str]]:
    """One row per alias: alias, account, result, reason, action, attempts."""
    return [_row(r, ALIAS_COLUMNS) for r in report.aliases]


def _requests_line(requests: dict[str, int]) -> str:
    """The summary's request count by method: ``- HTTP requests: 3 (GET 2, POST 1)``."""
    by_method = ", ".join(f"{m} {n}" for m, n in sorted(requests.items()))
    return f"- HTTP requests: {sum(requests.values())} ({by_method})"


def _aliases_markdown(aliases: AliasesReport) -> list[str]:
    counts = aliases.counts
    lines = [
        "## Aliases",
        "",
        f"- in the user list: {len(aliases.aliases)}",
        f"- created: {counts[Outcome.CREATED.value]}",
        f"- already existed: {counts[Outcome.EXISTED.value]}",
        f"- conflict: {counts[Outcome.CONFLICT.value]}",
        f"- failed: {counts[Outcome.FAILED.value]}",
        f"- counts reconcile: {'yes' if aliases.reconciles else 'NO'}",
        _requests_line(aliases.requests),
        "",
    ]
    problems = aliases.conflicts + aliases.failed
    if problems:
        lines += ["### Alias conflicts and failures", ""]
        lines += markdown_table(
            ("alias", "account", "result", "reason", "action"),
            (_row(a, ALIAS_COLUMNS) for a in problems[:200]),
        )
        if len(problems) > 200:
            lines.append(f"| … | | | {len(problems) - 200} more in aliases.csv | |")
        lines.append("")
    return lines


def setup_rows(setup: SetupResult) -> list[dict[str, str]]:
    """One row per customer, domain and routing entry."""
    return [_row(o, SETUP_COLUMNS) for o in setup.objects]


def summary_markdown(
    customer: str,
    setup: SetupResult,
    accounts: AccountsReport | None,
    *,
    self_service: bool,
    aliases: AliasesReport | None = None,
) -> str:
    """Return the run's summary: setup objects, account and alias counts, login proof, to-dos."""
    lines = [f"# Provisioning: {customer}", "", "## Customer, domains, routing", ""]
    lines += markdown_table(SETUP_COLUMNS, setup_rows(setup))
    lines.append("")
    if self_service:
        lines += [
            "## Accounts",
            "",
            "Self-service: no accounts were created; the customer "
            "received the instructions (self-service-instructions.md).",
            "",
        ]
    elif accounts is not None:
        counts = accounts.counts
        lines += [
            "## Accounts",
            "",
            f"- in the user list: {len(accounts.accounts)}",
            f"- created: {counts[Outcome.CREATED.value]}",
            f"- already existed: {counts[Outcome.EXISTED.value]}",
            f"- failed: {counts[Outcome.FAILED.value]}",
            f"- IMAP login proven: {accounts.logins_ok}, failed: {accounts.logins_failed}",
            f"- counts reconcile: {'yes' if accounts.reconciles else 'NO'}",
            _requests_line(accounts.requests),
            "",
        ]
        if accounts.failed:
            lines += ["### Failed accounts", ""]
            lines += markdown_table(
                ("email", "reason"), ((a.email, a.reason) for a in accounts.failed[:200])
            )
            if len(accounts.failed) > 200:
                lines.append(f"| … | {len(accounts.failed) - 200} more in provisioning.csv |")
            lines.append("")
    if aliases is not None and not self_service:
        lines += _aliases_markdown(aliases)
    return "\n".join(lines)


def self_service_markdown(
    customer: str,
    domains: Sequence[str],
    emails: Sequence[str],
    *,
    imap_host: str,
    imap_port: int,
    smtp_host: str,
    control_panel: str,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Return the instructions the customer's users follow to create their own mailboxes.

    ``aliases`` maps an address to its alias localparts: the user adds those too, since
    mail to an alias nobody created bounces after the switch-over.
    """
    aliases = aliases or {}

    def line(email: str) -> str:
        domain = email.rsplit("@", 1)[-1]
        extra = ", ".join(f"{a}@{domain}" for a in aliases.get(email, ()))
        return f"- {email}" + (f" (aliases: {extra})" if extra else "")

    listed = "\n".join(line(e) for e in emails) or "- (no users listed)"
    alias_step = (
        [
            "5. If your address below lists aliases, add each one on your account's "
            "**Aliases** tab (only the part before the @).",
        ]
        if any(aliases.get(e) for e in emails)
        else []
    )
    return "\n".join(
        [
            f"# Create your hosted mailbox ({customer})",
            "",
            f"Your organisation's domains ({', '.join(domains)}) are set up on MailRoute's "
            "hosted email. Each person creates their own mailbox:",
            "",
            f"1. Sign in to the MailRoute control panel at {control_panel} with the "
            "invitation your administrator forwarded.",
            "2. Open **Email Accounts** → **Add Email Account**; enter the part of your "
            "address before the @ and choose a password of at least 10 characters mixing "
            "letters, digits and symbols (not your name, not a common word).",
            f"3. Set up your mail program: incoming IMAP {imap_host} port {imap_port} "
            f"(SSL/TLS), outgoing SMTP {smtp_host} port 587 (STARTTLS), user name = your "
            "full email address.",
            "4. Tell your administrator when you are done; your old mail is copied over "
            "before the switch-over.",
            *alias_step,
            "",
            "## Addresses expected",
            "",
            listed,
            "",
        ]
    )
