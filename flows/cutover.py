"""Runbook phase 3, the cutover: move the customer's inbound mail to the hosted mailboxes.

Triggered by an operator once the customer has changed DNS (``onboard cutover SPEC``, the
``cutover/default`` deployment, or ``onboard run``). Steps:

1. read each domain's hold and routing in the control panel;
2. check DNS: propagated, and ttl_multiple × MX TTL since the change (refuse with the ETA
   otherwise; there is no override, the operator waits);
   prove the test accounts work as their mail clients will (IMAP login, authenticated send
   on the hosted submission service, receipt): any failure refuses with its reason;
   mail every user the notice before the cutover (if the spec asks; once per user);
3. operator approval (a Resume form in the UI) unless the spec waives it or ``approved``;
4. hold delivery for every domain (mail is queued at the gateway, not lost);
5. final incremental sync (the ``migrate`` flow, pass ``final``);
6. switch each domain's routing to the hosted mailboxes; 7. release the hold;
8. confirm the mail held meanwhile arrived, and a fresh probe per domain flows;
9. schedule the follow-up verification (or say when it is due); mail every user the welcome
   (if the spec asks; once per user, also when a re-run finds the cutover done).

A new domain (no ``mail_servers``) is routed to the hosted mailboxes by ``provision`` from the
start: it takes no part in steps 1–7 (no readiness wait, hold, sync or switch); its users get
the welcome.

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
from prefect.states import State

from flows.migrate import migrate
from flows.results import CutoverResult, end
from onboarding import OnboardingError
from onboarding.cutover import CutoverOutcome, CutoverReport, DomainPhase, Readiness, StepResult
from onboarding.mailflow import ProbeMessage
from tasks.adapters import new_domains
from tasks.customer import load_customer
from tasks.cutover import (
    ask_approval,
    domain_states,
    hold_all,
    mark_completed,
    plan_cutover,
    publish_cutover,
    release_all,
    schedule_followup,
    switch_all,
    wait_until_ready,
)
from tasks.notices import send_user_notices
from tasks.verify import (
    await_held_probes,
    check_test_accounts,
    probe_mail_flow,
    send_held_probes,
)
from validation.spec import OnboardingSpec

__all__ = ["cutover"]


@flow(name="cutover", log_prints=False)
def cutover(spec_path: Path, approved: bool = False, wait_seconds: float = 0.0) -> State[Any]:
    """Cut the customer over; ``approved`` = the operator said yes on the command line.

    ``wait_seconds``: how long to keep checking DNS readiness before refusing (0: once).
    """
    spec = load_customer(spec_path).spec
    before = domain_states(spec)
    report = CutoverReport(
        spec.customer, CutoverOutcome.FAILED, "", before=before, new_domains=new_domains(spec)
    )
    phases = {s.phase for s in before}
    if phases <= {DomainPhase.DONE}:  # every domain cut over (or new: hosted from the start)
        probes = probe_mail_flow(spec)
        report = _completed(spec, report)  # a crash may have come before the follow-up
        return _finish(spec, report.concluded(CutoverOutcome.ALREADY_DONE, probes=probes))
    if DomainPhase.HELD in phases:
        approval = "a cutover was under way (delivery held): finishing it"
    else:
        readiness = wait_until_ready(spec, wait_seconds)
        report = replace(report, readiness=readiness)
        if not readiness.ready:
            outcome = CutoverOutcome.NOT_READY
            return _finish(spec, report.concluded(outcome, message=readiness.message))
        report = replace(report, test_accounts=check_test_accounts(spec))
        if report.failed_test_accounts:
            return _finish(
                spec, report.concluded(CutoverOutcome.NOT_READY, message=_broken(report))
            )
        if spec.notices.before_cutover:
            notice = send_user_notices(
                spec, "before_cutover", plan_cutover(spec), readiness.checked_at
            )
            report = replace(report, notices=(notice,))
            if not notice.ok:
                message = f"{notice.message}; nothing was held: re-run to send the rest"
                return _finish(spec, report.concluded(CutoverOutcome.NOT_READY, message=message))
        decided = _approval(spec, readiness, approved)
        if decided is None:
            return _finish(spec, report.concluded(CutoverOutcome.DECLINED))
        approval = decided
    report = replace(report, approval=approval)
    steps: list[StepResult] = []
    try:
        steps += hold_all(spec)
        held: tuple[ProbeMessage, ...] = send_held_probes(spec)
        sync = _final_sync(spec, spec_path)
        report = replace(report, steps=tuple(steps), final_sync=sync)
        if not sync.startswith(("completed", "skipped")):
            return _finish(spec, report.concluded(CutoverOutcome.FAILED, message=_stuck(sync)))
        steps += switch_all(spec)
        steps += release_all(spec)
        held_results = await_held_probes(spec, held)
        probes = probe_mail_flow(spec)
    except OnboardingError as exc:
        report = replace(report, steps=tuple(steps))
        return _finish(spec, report.concluded(CutoverOutcome.FAILED, message=_stuck(str(exc))))
    report = _completed(spec, replace(report, steps=tuple(steps), held_probes=held_results))
    return _finish(spec, report.concluded(CutoverOutcome.COMPLETED, probes=probes))


def _completed(spec: OnboardingSpec, report: CutoverReport) -> CutoverReport:
    """Note the completion, schedule the follow-up, send the welcome (all idempotent)."""
    cutover_id, completed_at = mark_completed(spec)
    followup = schedule_followup(spec, cutover_id, deployment.id is not None, completed_at)
    report = replace(report, cutover_id=cutover_id, followup=followup)
    if spec.notices.welcome:
        welcome = send_user_notices(spec, "welcome", cutover_id, completed_at)
        report = replace(report, notices=(*report.notices, welcome))
    return report


def _broken(report: CutoverReport) -> str:
    """Why the cutover will not ask for approval: the test accounts that do not work."""
    failed = report.failed_test_accounts
    reasons = "; ".join(c.reason for c in failed[:5])
    return (
        f"{len(failed)}/{len(report.test_accounts)} test account(s) do not work as a mail "
        f"client would use them, so the cutover was not approved or started (nothing held): "
        f"{reasons}"
    )


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


def _finish(spec: OnboardingSpec, report: CutoverReport) -> State[Any]:
    """Publish the report and end in the state its outcome calls for."""
    folder = publish_cutover(spec, report)
    result = CutoverResult.of(report, folder)
    return end(result, name=report.ending, cancelled=report.outcome is CutoverOutcome.DECLINED)
