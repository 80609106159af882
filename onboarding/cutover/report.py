"""What a cutover run did, for the ``cutover-<slug>`` artifact and the run folder.

One shape for every ending (style rule 7): ``outcome`` says how it ended, the rest is what
was seen and done; :meth:`CutoverReport.markdown` renders it for people.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from onboarding.cutover.readiness import Readiness
from onboarding.cutover.routing import DomainState, StepResult
from onboarding.cutover.verification import probe_cells
from onboarding.mailflow import ClientCheck, ProbeResult
from onboarding.notices import NoticeReport
from onboarding.reports import markdown_table

__all__ = ["STEP_COLUMNS", "CutoverOutcome", "CutoverReport", "FollowUp"]

STEP_COLUMNS = ("domain", "step", "changed", "detail")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _time(when: datetime | None) -> str:
    return f"{when:%Y-%m-%d %H:%M:%S}" if when else ""


class CutoverOutcome(StrEnum):
    """How a cutover run ended."""

    COMPLETED = "completed"  # every domain cut over and mail flows
    ALREADY_DONE = "already-cut-over"  # nothing to do but re-check mail flow
    NOT_READY = "not-ready"  # DNS not propagated or the TTL wait not over: nothing changed
    DECLINED = "declined"  # the operator did not approve: nothing changed
    FAILED = "failed"  # a step failed; the report says where and what is safe to do


@dataclass(frozen=True)
class FollowUp:
    """The post-cutover verification ``after_hours`` later: scheduled, or how to run it."""

    due_at: datetime
    flow_run_id: str | None = None
    how_to_run: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "due_at": self.due_at.isoformat(),
            "scheduled_flow_run_id": self.flow_run_id,
            "how_to_run": self.how_to_run,
        }


@dataclass(frozen=True)
class CutoverReport:
    """Everything one cutover run saw and did."""

    customer: str
    outcome: CutoverOutcome
    message: str
    cutover_id: str | None = None
    readiness: Readiness | None = None
    before: tuple[DomainState, ...] = ()
    steps: tuple[StepResult, ...] = ()
    approval: str | None = None
    final_sync: str | None = None
    held_probes: tuple[ProbeResult, ...] = ()
    probes: tuple[ProbeResult, ...] = ()
    followup: FollowUp | None = None
    new_domains: tuple[str, ...] = ()  # hosted from the start: never held, switched or synced
    test_accounts: tuple[ClientCheck, ...] = ()
    notices: tuple[NoticeReport, ...] = ()

    @property
    def failed_test_accounts(self) -> tuple[ClientCheck, ...]:
        return tuple(c for c in self.test_accounts if not c.ok)

    catchups: tuple[FollowUp, ...] = ()

    @property
    def writes(self) -> int:
        """How many steps changed something in the control panel."""
        return sum(1 for s in self.steps if s.changed)

    @property
    def undelivered(self) -> tuple[str, ...]:
        """The domains a held-mail or fresh probe did not reach, sorted, each once."""
        lost = {p.domain for p in (*self.held_probes, *self.probes) if not p.delivered}
        return tuple(sorted(lost))

    @property
    def ok(self) -> bool:
        """True when the customer is cut over (now or before) and mail flows."""
        done = self.outcome in (CutoverOutcome.COMPLETED, CutoverOutcome.ALREADY_DONE)
        return done and not self.undelivered

    @property
    def ending(self) -> str:
        """The name of the run's final state (``AlreadyCutOver``, ``Declined``, ``NotReady``…)."""
        if self.outcome is CutoverOutcome.ALREADY_DONE:
            return "MailNotFlowing" if self.undelivered else "AlreadyCutOver"
        return {
            CutoverOutcome.COMPLETED: "Completed",
            CutoverOutcome.DECLINED: "Declined",
            CutoverOutcome.NOT_READY: "NotReady",
        }.get(self.outcome, "Failed")

    def concluded(
        self,
        outcome: CutoverOutcome,
        *,
        message: str | None = None,
        probes: tuple[ProbeResult, ...] = (),
    ) -> CutoverReport:
        """This report ended as ``outcome``: a completed cutover whose mail does not flow is a
        failure, and each ending without its own ``message`` gets the standard one."""
        report = replace(self, outcome=outcome, probes=probes)
        lost = report.undelivered
        if outcome is CutoverOutcome.COMPLETED and lost:
            outcome = CutoverOutcome.FAILED
            message = "cut over, but mail does not flow to: " + ", ".join(lost)
        unsent = [n for n in report.notices if not n.ok]
        done = (CutoverOutcome.COMPLETED, CutoverOutcome.ALREADY_DONE)
        if outcome in done and unsent and message is None:
            outcome = CutoverOutcome.FAILED
            message = f"cut over, but {unsent[0].message}; re-run to send the rest"
        if message is None:
            message = {
                CutoverOutcome.COMPLETED: f"cut over {len(self.before)} domain(s); mail flows"
                + (
                    f" ({len(self.new_domains)} new domain(s) hosted from the start)"
                    if self.new_domains
                    else ""
                ),
                CutoverOutcome.ALREADY_DONE: "already cut over; mail does not flow to every domain"
                if lost
                else "already cut over: nothing changed; mail flows",
                CutoverOutcome.DECLINED: "the operator declined: nothing changed",
            }.get(outcome, str(outcome))
        return replace(report, outcome=outcome, message=message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "outcome": str(self.outcome),
            "message": self.message,
            "cutover_id": self.cutover_id,
            "readiness": self.readiness.to_dict() if self.readiness else None,
            "before": [s.to_dict() for s in self.before],
            "steps": [s.to_dict() for s in self.steps],
            "changes": self.writes,
            "approval": self.approval,
            "final_sync": self.final_sync,
            "held_mail_probes": [p.to_dict() for p in self.held_probes],
            "mail_flow_probes": [p.to_dict() for p in self.probes],
            "followup": self.followup.to_dict() if self.followup else None,
            "new_domains": list(self.new_domains),
            "test_accounts": [c.to_dict() for c in self.test_accounts],
            "notices": [
                {k: v for k, v in n.to_dict().items() if k != "results"} for n in self.notices
            ],
            "catchup_passes": [c.to_dict() for c in self.catchups],
        }

    def markdown(self) -> str:
        lines = [
            f"# Cutover of {self.customer}: {self.outcome}",
            "",
            self.message,
            "",
        ]
        if self.cutover_id:
            lines += [f"Cutover id: `{self.cutover_id}`", ""]
        if self.readiness is not None:
            lines += ["## DNS readiness", ""]
            lines += markdown_table(
                ("domain", "ready", "propagated", "MX TTL", "change seen", "ready at", "ETA s"),
                (
                    (
                        d.domain,
                        _yes(d.ready),
                        _yes(d.propagated),
                        "" if d.mx_ttl is None else d.mx_ttl,
                        _time(d.changed_at),
                        _time(d.ready_at),
                        "unknown" if d.eta_seconds is None else d.eta_seconds,
                    )
                    for d in self.readiness.domains
                ),
            )
            lines.append("")
        if self.new_domains:
            lines += [
                "New domains, hosted from the start (no hold, no migration, no TTL wait): "
                + ", ".join(self.new_domains),
                "",
            ]
        if self.test_accounts:
            lines += [
                "## Test accounts (IMAP login, send on submission, receipt)",
                "",
                "| account | works | failed at | problem |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {c.email} | {_yes(c.ok)} | {c.stage or ''} | {c.error or ''} |"
                for c in self.test_accounts
            ]
            lines.append("")
        for n in self.notices:
            lines += [f"Notices: {n.message}", ""]
        if self.approval:
            lines += [f"Approval: {self.approval}", ""]
        if self.before:
            lines += ["## Before this run", ""]
            lines += markdown_table(
                ("domain", "phase", "routing"),
                ((s.domain, s.phase, ", ".join(s.to_dict()["routing"])) for s in self.before),
            )
            lines.append("")
        if self.steps:
            lines += ["## Steps", ""]
            lines += markdown_table(
                ("domain", "step", "changed", "detail"),
                ((s.domain, s.step, _yes(s.changed), s.detail) for s in self.steps),
            )
            lines.append("")
        if self.final_sync:
            lines += [f"Final sync: {self.final_sync}", ""]
        for title, probes in (
            ("Mail held during the cutover", self.held_probes),
            ("Mail flow after the cutover", self.probes),
        ):
            if probes:
                lines += [f"## {title}", ""]
                lines += markdown_table(
                    ("domain", "to", "delivered", "seconds", "problem"),
                    ((p.domain, p.recipient or "", *probe_cells(p)) for p in probes),
                )
                lines.append("")
        if self.catchups:
            lines += [
                "## Catch-up passes",
                "",
                "Incremental passes for mail still delivered to the old server after the switch:",
                "",
            ]
            lines += [
                f"- due {c.due_at:%Y-%m-%d %H:%M} UTC: "
                + (f"scheduled as flow run `{c.flow_run_id}`" if c.flow_run_id else c.how_to_run)
                for c in self.catchups
            ]
            lines.append("")
        if self.followup is not None:
            f = self.followup
            lines += [
                "## Follow-up verification",
                "",
                f"Due {f.due_at:%Y-%m-%d %H:%M} UTC. "
                + (f"Scheduled as flow run `{f.flow_run_id}`." if f.flow_run_id else f.how_to_run),
                "",
            ]
        return "\n".join(lines)
