"""Runbook phase 3, the cutover: move the customer's inbound mail to the hosted mailboxes.

Triggered by an operator once the customer has changed DNS (``onboard cutover SPEC``, the
``cutover/default`` deployment, or ``onboard run``). Steps:

1. read each domain's hold and routing in the control panel;
2. check DNS: propagated, and ttl_multiple × MX TTL since the change (refuse with the ETA
   otherwise; there is no override, the operator waits);
3. operator approval (a Resume form in the UI) unless the spec waives it or ``approved``;
4. hold delivery for every domain (mail is queued at the gateway, not lost);
5. final incremental sync (the ``migrate`` flow, pass ``final``);
6. switch each domain's routing to the hosted mailboxes; 7. release the hold;
8. confirm the mail held meanwhile arrived, and a fresh probe per domain flows;
9. schedule the follow-up verification (or say when it is due).

Every step reads before it writes, so a re-run after any failure finishes the job: a held
domain is not held again, a routed one not re-routed, a finished cutover only re-probes. A
cutover already under way (a domain is held) is finished without asking again. It does not
change DNS, create mailboxes, or delete mail anywhere.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import deployment
from prefect.states import Cancelled, Completed, Failed, State

from flows.migrate import migrate
from onboarding import OnboardingError
from onboarding.cutover import CutoverOutcome, CutoverReport, DomainPhase, Readiness, StepResult
from onboarding.mailflow import ProbeMessage, ProbeResult
from tasks.cutover import (
    ask_approval,
    domain_states,
    hold_all,
    mark_completed,
    publish_cutover,
    release_all,
    schedule_followup,
    send_held_probes,
    switch_all,
    wait_until_ready,
)
from tasks.verify import await_held_probes, probe_mail_flow
from validation.spec import OnboardingSpec, load_spec

__all__ = ["cutover"]


@flow(name="cutover", log_prints=False)
def cutover(spec_path: Path, approved: bool = False, wait_seconds: float = 0.0) -> State[Any]:
    """Cut the customer over; ``approved`` = the operator said yes on the command line.

    ``wait_seconds``: how long to keep checking DNS readiness before refusing (0: once).
    """
    spec = load_spec(spec_path)
    before = domain_states(spec_path)
    report = CutoverReport(spec.customer, CutoverOutcome.FAILED, "", before=before)
    phases = {s.phase for s in before}
    if phases == {DomainPhase.DONE}:
        probes = probe_mail_flow(spec_path)
        report = _completed(spec_path, report)  # a crash may have come before the follow-up
        return _finish(spec, report, CutoverOutcome.ALREADY_DONE, probes=probes)
    if DomainPhase.HELD in phases:
        approval = "a cutover was under way (delivery held): finishing it"
    else:
        readiness = wait_until_ready(spec_path, wait_seconds)
        report = _with(report, readiness=readiness)
        if not readiness.ready:
            return _finish(spec, report, CutoverOutcome.NOT_READY, message=readiness.message)
        decided = _approval(spec, readiness, approved)
        if decided is None:
            return _finish(spec, report, CutoverOutcome.DECLINED)
        approval = decided
    report = _with(report, approval=approval)
    steps: list[StepResult] = []
    try:
        steps += hold_all(spec_path)
        held: tuple[ProbeMessage, ...] = send_held_probes(spec_path)
        sync = _final_sync(spec, spec_path)
        report = _with(report, steps=tuple(steps), final_sync=sync)
        if not sync.startswith(("completed", "skipped")):
            return _finish(spec, report, CutoverOutcome.FAILED, message=_stuck(sync))
        steps += switch_all(spec_path)
        steps += release_all(spec_path)
        held_results = await_held_probes(spec_path, held)
        probes = probe_mail_flow(spec_path)
    except OnboardingError as exc:
        report = _with(report, steps=tuple(steps))
        return _finish(spec, report, CutoverOutcome.FAILED, message=_stuck(str(exc)))
    report = _completed(spec_path, _with(report, steps=tuple(steps), held_probes=held_results))
    return _finish(spec, report, CutoverOutcome.COMPLETED, probes=probes)


def _completed(spec_path: Path, report: CutoverReport) -> CutoverReport:
    """Note the completion and schedule the follow-up (both idempotent)."""
    cutover_id, completed_at = mark_completed(spec_path)
    followup = schedule_followup(spec_path, cutover_id, deployment.id is not None, completed_at)
    return _with(report, cutover_id=cutover_id, followup=followup)


def _approval(spec: OnboardingSpec, readiness: Readiness, approved: bool) -> str | None:
    """Who approved, or None when the operator declined."""
    if not spec.cutover.require_approval:
        return "not required by the spec (cutover.require_approval: false)"
    if approved:
        return "approved by the operator when starting the run (--yes)"
    answer = ask_approval(spec, readiness)
    if not answer.approve:
        get_run_logger().warning("the operator declined the cutover: %s", answer.notes)
        return None
    return "approved when the paused run was resumed" + (
        f": {answer.notes}" if answer.notes else ""
    )


def _final_sync(spec: OnboardingSpec, spec_path: Path) -> str:
    """Run the ``migrate`` flow (pass ``final``) as a subflow; return how it ended."""
    if not spec.migration.enabled:
        return "skipped: migration is not enabled in the spec"
    state = migrate(spec_path=spec_path, pass_kind="final", return_state=True)
    return f"{'completed' if state.is_completed() else 'failed'}: {state.message or ''}"


def _stuck(problem: str) -> str:
    return (
        f"{problem}. Domains already held stay held (their mail is queued, not lost): fix the "
        "problem and re-run the cutover to finish it"
    )


def _with(report: CutoverReport, **changes: Any) -> CutoverReport:
    return replace(report, **changes)


def _finish(
    spec: OnboardingSpec,
    report: CutoverReport,
    outcome: CutoverOutcome,
    *,
    message: str | None = None,
    probes: tuple[ProbeResult, ...] = (),
) -> State[Any]:
    """Publish the report and end in the state the outcome calls for."""
    lost = [p for p in (*report.held_probes, *probes) if not p.delivered]
    if outcome is CutoverOutcome.COMPLETED and lost:
        outcome = CutoverOutcome.FAILED
        message = "cut over, but mail does not flow to: " + ", ".join(
            sorted({p.domain for p in lost})
        )
    if message is None:
        message = {
            CutoverOutcome.COMPLETED: f"cut over {len(spec.domains)} domain(s); mail flows",
            CutoverOutcome.ALREADY_DONE: "already cut over: nothing changed; mail flows"
            if not lost
            else "already cut over; mail does not flow to every domain",
            CutoverOutcome.DECLINED: "the operator declined: nothing changed",
        }.get(outcome, str(outcome))
    report = _with(report, outcome=outcome, message=message, probes=probes)
    folder = publish_cutover(spec, report)
    data = report.to_dict() | {"run_folder": str(folder)}
    get_run_logger().info("%s; report in %s", message, folder)
    if outcome is CutoverOutcome.ALREADY_DONE and lost:
        return Failed(name="MailNotFlowing", message=message, data=data)
    if outcome in (CutoverOutcome.COMPLETED, CutoverOutcome.ALREADY_DONE):
        name = "Completed" if outcome is CutoverOutcome.COMPLETED else "AlreadyCutOver"
        return Completed(name=name, message=message, data=data)
    if outcome is CutoverOutcome.DECLINED:
        return Cancelled(name="Declined", message=message, data=data)
    name = "NotReady" if outcome is CutoverOutcome.NOT_READY else "Failed"
    return Failed(name=name, message=message, data=data)
