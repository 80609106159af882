"""The customer's final report: what the onboarding did, what it did not and why, what is open.

Built after ``verify`` from the JSON the phases wrote to their run folders (``provisioning.json``,
the migration's ``report.json``, ``cutover.json``, ``verification.json``), passed in as plain
mappings, so the report says exactly what the operators' reports say. Per domain: routing,
mail flow, DNS, client set-up; per user: mailbox, messages now in the hosted mailbox, aliases,
login. Then everything not done (failed or skipped items with their fix, and plainly what IMAP
never carries: calendars, contacts, filters), the outstanding issues, the follow-up date and the
support contacts. It never sees a password.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from onboarding.documents import Document, Section, SupportContacts, Table

__all__ = ["REPORT_SECTIONS", "ReportSources", "customer_report"]

REPORT_SECTIONS = ("summary", "domains", "users", "not-done", "issues", "followup")
_LIST_LIMIT = 50  # rows of failed items shown; the operators' reports have all of them

Json = Mapping[str, Any]


@dataclass(frozen=True)
class ReportSources:
    """The phases' JSON reports (None where the phase never ran) and what the spec says."""

    customer: str
    domains: tuple[str, ...]
    verify: Json
    support: SupportContacts
    followup_hours: float
    provision: Json | None = None
    migrate: Json | None = None
    cutover: Json | None = None
    migration_enabled: bool = True


def _when(text: str | None) -> str:
    if not text:
        return "not known"
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return text


def _followup(s: ReportSources) -> str:
    due = (s.cutover or {}).get("followup") or {}
    if due.get("due_at"):
        return _when(due["due_at"])
    checked = s.verify.get("checked_at")
    if not checked:
        return "not scheduled"
    at = datetime.fromisoformat(checked) + timedelta(hours=s.followup_hours)
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _domain_rows(s: ReportSources) -> tuple[tuple[str, ...], ...]:
    flow = {p["domain"]: p for p in s.verify.get("mail_flow", ())}
    dns_results = (s.verify.get("dns") or {}).get("results", ())
    lookups = s.verify.get("client_config", ())
    rows = []
    for d in s.domains:
        probe = flow.get(d)
        checks = [r for r in dns_results if r["domain"] == d]
        passed = sum(1 for r in checks if r["status"] != "fail")
        mine = [r["valid"] for r in lookups if r["domain"] == d]
        rows.append(
            (
                f"`{d}`",
                "delivered" if probe and probe["delivered"] else "not delivered",
                f"{passed}/{len(checks)} passed" if checks else "not checked",
                f"{sum(mine)}/{len(mine)} right" if mine else "not checked",
            )
        )
    return tuple(rows)


def _user_rows(s: ReportSources) -> tuple[tuple[str, ...], ...]:
    prov = s.provision or {}
    accounts = {r["email"]: r for r in prov.get("account_rows", ())}
    aliases: dict[str, list[str]] = {}
    for a in prov.get("alias_rows", ()):
        aliases.setdefault(a["account"].lower(), []).append(
            a["alias"]
            + ("" if a["result"] in ("created", "already existed") else f" ({a['result']})")
        )
    mailboxes = {m["mailbox"]: m for m in (s.migrate or {}).get("mailboxes", ())}
    logins = {a["email"]: a for a in s.verify.get("accounts", {}).get("results", ())}
    emails = list(dict.fromkeys([*logins, *accounts, *mailboxes]))
    rows = []
    for e in emails:
        acc = accounts.get(e)
        if acc is None:
            made = "self-service" if prov.get("self_service") else "exists"
        elif acc["result"] == "failed":
            made = "not created"
        else:
            made = acc["result"]
        mb = mailboxes.get(e)
        if not s.migration_enabled:
            moved = "no migration asked"
        elif mb is None:
            moved = "not migrated"
        else:
            moved = f"{int(mb['copied']) + int(mb['already_present']):,}"
            if int(mb["failed"]) or int(mb["skipped"]):
                moved += f" ({mb['failed']} failed, {mb['skipped']} skipped)"
        login = logins.get(e)
        rows.append(
            (
                f"`{e}`",
                made,
                moved,
                ", ".join(f"`{a}`" for a in aliases.get(e.lower(), ())) or "none",
                "works" if login and login["ok"] else "fails",
            )
        )
    return tuple(rows)


def _not_done(s: ReportSources) -> tuple[str, ...]:
    items: list[str] = []
    prov = s.provision or {}
    for f in prov.get("failed", ()):
        items.append(
            f"Mailbox `{f['email']}` was not created: {f['reason']}. We re-run provisioning "
            "once it is fixed."
        )
    for a in prov.get("alias_problems", ()):
        items.append(f"Alias `{a['alias']}` ({a['result']}): {a['reason']}. {a['action']}")
    failed = list((s.migrate or {}).get("failed_transfers", ()))
    for t in failed[:_LIST_LIMIT]:
        where = f"`{t['mailbox']}`" + (f" folder `{t['folder']}`" if t.get("folder") else "")
        subject = f" message {t['message_id']}" if t.get("message_id") else ""
        items.append(f"{where}{subject}: {t['outcome']}: {t['reason']}. Fix: {t['fix']}")
    if len(failed) > _LIST_LIMIT:
        items.append(
            f"… and {len(failed) - _LIST_LIMIT} more item(s); your operator's migration report "
            "lists every one."
        )
    if not s.migration_enabled:
        items.append("No mail was copied from the old server: no migration was asked for.")
    return tuple(items)


_NEVER_BY_IMAP = (
    "Calendars, contacts and mail filters (rules) are not migrated: IMAP carries mail folders "
    "only. Export them from the old service (calendar as .ics, contacts as .vcf, rules by hand) "
    "and import or re-create them in your mail program; technical support can help."
)


def _issue_rows(s: ReportSources) -> tuple[tuple[str, ...], ...]:
    return tuple(
        (i["area"], f"`{i['subject']}`" if i["subject"] else "", i["problem"], i["fix"])
        for i in s.verify.get("open_issues", ())
    )


def customer_report(s: ReportSources) -> Document:
    """The final report as a :class:`~onboarding.documents.Document` (render it to MD/HTML)."""
    users = _user_rows(s)
    issues = _issue_rows(s)
    not_done = _not_done(s)
    checked = _when(s.verify.get("checked_at"))
    label = "follow-up check" if s.verify.get("followup") else "check"
    return Document(
        title=f"Onboarding report for {s.customer}",
        subtitle=f"Your mail moved to MailRoute: {len(s.domains)} domain(s), {len(users)} "
        f"mailbox(es). Last {label} {checked}.",
        sections=(
            Section(
                "Summary",
                "summary",
                paragraphs=(
                    f"Result of the last {label} ({checked}): {s.verify.get('summary', '')}.",
                    "Everything is working."
                    if not issues
                    else f"{len(issues)} issue(s) "
                    "are still open; they are listed below with what we do about them.",
                ),
            ),
            Section(
                "Per domain",
                "domains",
                table=Table(
                    (
                        "domain",
                        "mail to the new mailboxes",
                        "DNS (MX, SPF, DKIM, DMARC)",
                        "automatic client set-up",
                    ),
                    _domain_rows(s),
                ),
            ),
            Section(
                "Per user",
                "users",
                table=Table(
                    ("address", "mailbox", "messages in the new mailbox", "aliases", "login"),
                    users,
                ),
            ),
            Section(
                "Not done, and why",
                "not-done",
                bullets=(*not_done, _NEVER_BY_IMAP),
            ),
            Section(
                "Outstanding issues",
                "issues",
                paragraphs=() if issues else ("None.",),
                table=Table(("area", "subject", "problem", "fix"), issues) if issues else None,
            ),
            Section(
                "Follow-up",
                "followup",
                paragraphs=(
                    f"We check everything again on {_followup(s)} and tell you the result. "
                    "Until then, write to technical support about anything that does not work.",
                ),
            ),
        ),
        support=s.support,
    )
