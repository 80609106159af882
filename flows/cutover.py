"""Runbook phase 3, the cutover: move the customer's inbound mail to the hosted mailboxes.

Triggered by an operator once the customer has changed DNS (``onboard cutover SPEC``, the
``cutover/cut-over`` deployment, or ``onboard run``). Steps:

1. read each domain's hold and routing in the control panel;
2. check DNS: propagated, and ttl_multiple × MX TTL since the change (refuse with the ETA
   otherwise; there is no override, the operator waits);
   prove the test accounts work as their mail clients will (IMAP login, authenticated send
   on the hosted submission service, receipt): any failure refuses with its reason;
   mail every user the notice before the cutover (if the spec asks; once per user);
3. operator approval (a Resume form in the UI) unless the spec waives it or ``approved``;
4. before any hold, the latest migration's table: a mailbox that would fail the final pass
   (failed, a folder in error, more new failed items than ``bad_item_limit``) stops the run
   here, after a Resume form listing the items when someone is there to approve them;
5. hold delivery for every domain (mail is queued at the gateway, not lost);
6. final incremental sync (the ``migrate`` flow, pass ``final``): new failed items release
   the hold with the reason (routing unchanged); a failed mailbox keeps it (re-run);
7. switch each domain's routing to the hosted mailboxes; 8. release the hold;
9. confirm the mail held meanwhile arrived, and a fresh probe per domain flows;
10. remove the customer's nightly incremental schedule; schedule the catch-up passes
    (``cutover.catchup_after_hours``) for mail still delivered to the old server, and the
    follow-up verification (or say when they are due); mail every
    user the welcome (if the spec asks; once per user, also when a re-run finds it done).

A new domain (no ``mail_servers``) is routed to the hosted mailboxes by ``provision`` from the
start: it takes no part in steps 1–8 (no readiness wait, hold, sync or switch); its users get
the welcome.

One cutover per customer at a time: the run holds ``customer-<slug>-cutover`` throughout
(a second one is refused at once, naming this run; a pause for approval blocks no other
customer) and ``customer-<slug>-migrate`` from the hold to the release, so no nightly pass
runs while mail is held; the final pass runs inside that slot (see :mod:`tasks.customer_lock`).

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

from flows.customer_runs import one_at_a_time
from flows.migrate import migrate
from flows.results import CutoverResult, MigrateResult, end, result_of
from flows.run_names import run_name
from onboarding import OnboardingError
from onboarding.cutover import CutoverOutcome, CutoverReport, DomainPhase, Readiness, StepResult
from onboarding.mailflow import ProbeMessage
from tasks.adapters import new_domains
from tasks.customer import load_customer
from tasks.customer_lock import CustomerBusy, customer_slot
from tasks.cutover import (
    ask_approval,
    ask_items_approval,
    bad_items,
    domain_states,
    hold_all,
    mark_completed,
    plan_cutover,
    publish_cutover,
    release_all,
    schedule_catchups,
    schedule_followup,
    switch_all,
    wait_until_ready,
)
from tasks.migrate import approve_known
from tasks.notices import send_user_notices
from tasks.schedules import remove_nightly
from tasks.verify import (
    await_held_probes,
    check_test_accounts,
    probe_mail_flow,
    send_held_probes,
)
from validation.spec import OnboardingSpec

__all__ = ["cutover"]


@flow(name="cutover", flow_run_name=run_name("cutover"), log_prints=False)
def cutover(spec_path: Path, approved: bool = False, wait_seconds: float = 0.0) -> State[Any]:
    """Cut the customer over (see the module doc).

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
        approved: The operator already said yes (the command line's --yes): no pause.
        wait_seconds: How long to keep checking DNS readiness before refusing (0: once).
    """
    spec = load_customer(spec_path).spec
    return one_at_a_time(  # one cutover per customer; other customers run meanwhile
        spec, "cutover", lambda: _cut_over(spec, spec_path, approved, wait_seconds)
    )


def _cut_over(
    spec: OnboardingSpec, spec_path: Path, approved: bool, wait_seconds: float
) -> State[Any]:
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
    if DomainPhase.HELD not in phases:
        stop = _items_gate(spec, approved)
        if stop is not None:
            return _finish(spec, report.concluded(CutoverOutcome.FAILED, message=stop))
    try:
        with customer_slot(spec, "migrate"):  # no other pass while mail is held
            return _hold_sync_switch(spec, spec_path, report)
    except CustomerBusy as busy:
        message = f"nothing held: {busy}"
        return _finish(spec, report.concluded(CutoverOutcome.FAILED, message=message))


def _hold_sync_switch(spec: OnboardingSpec, spec_path: Path, report: CutoverReport) -> State[Any]:
    """Steps 5-9, holding the customer's migrate slot (its final pass runs in it)."""
    steps: list[StepResult] = []
    try:
        steps += hold_all(spec)
        sync, items_only = _final_sync(spec, spec_path)
        report = replace(report, steps=tuple(steps), final_sync=sync)
        if not sync.startswith(("completed", "skipped")):
            if items_only:  # new bad items: nothing to wait for, give the mail back
                steps += release_all(spec)
                report = replace(report, steps=tuple(steps))
                message = _released(sync)
                return _finish(spec, report.concluded(CutoverOutcome.FAILED, message=message))
            return _finish(spec, report.concluded(CutoverOutcome.FAILED, message=_stuck(sync)))
        held: tuple[ProbeMessage, ...] = send_held_probes(spec)
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
    """Note the completion; schedule the catch-up passes and the follow-up; send the welcome
    (all idempotent)."""
    cutover_id, completed_at = mark_completed(spec)
    remove_nightly(spec)  # cut over: the catch-up passes replace the nightly ones
    under = deployment.id is not None
    catchups = schedule_catchups(spec, cutover_id, under, completed_at)
    followup = schedule_followup(spec, cutover_id, under, completed_at)
    report = replace(report, cutover_id=cutover_id, followup=followup, catchups=catchups)
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
    if not answer.yes:
        get_run_logger().warning("the operator declined the cutover: %s", answer.notes)
        return None
    return "approved when the paused run was resumed" + (
        f": {answer.notes}" if answer.notes else ""
    )


def _items_gate(spec: OnboardingSpec, approved: bool) -> str | None:
    """Before any hold: None when the latest migration leaves nothing that would stop the
    final pass; else why the cutover stops now (after asking, when someone can answer)."""
    if not spec.migration.enabled:
        return None
    blocking, rows = bad_items(spec)
    someone_answers = not approved and spec.cutover.require_approval
    if blocking and someone_answers and any(r.get("approval") == "new" for r in rows):
        answer = ask_items_approval(spec, blocking, rows)
        if answer.yes:
            note = "approved in the cutover's form" + (f": {answer.notes}" if answer.notes else "")
            approve_known(spec, list(blocking), note)
            blocking, rows = bad_items(spec)
    if not blocking:
        return None
    return (
        "nothing held: the latest migration leaves mailboxes that would stop the final pass: "
        + "; ".join(f"{m} ({why})" for m, why in blocking.items())
        + f". Approve known items (`onboard migrate {spec.spec_path} --approve-failed`, or "
        "the form of a cutover run that needs approval) or fix them and re-run migrate; "
        "then re-run the cutover"
    )


def _final_sync(spec: OnboardingSpec, spec_path: Path) -> tuple[str, bool]:
    """Run the ``migrate`` flow (pass ``final``) as a subflow; return how it ended, and
    whether only new failed items (no failed mailbox) made it fail."""
    if not spec.migration.enabled:
        return "skipped: migration is not enabled in the spec", False
    state = migrate(spec_path=spec_path, pass_kind="final", return_state=True)
    if state.is_completed():
        return f"completed: {state.message or ''}", False
    result = result_of(state)
    items_only = isinstance(result, MigrateResult) and result.failed_mailboxes == 0
    return f"failed: {state.message or ''}", items_only


def _released(problem: str) -> str:
    return (
        f"{problem}. The final pass found new failed items, so the hold was released and the "
        "routing left as it was (mail goes to the old server as before, nothing is lost): "
        "approve them (`onboard migrate SPEC --approve-failed`) or fix them, then re-run the "
        "cutover"
    )


def _stuck(problem: str) -> str:
    return (
        f"{problem}. Domains already held stay held (their mail is queued, not lost): fix the "
        "problem and re-run the cutover to finish it"
    )


def _finish(spec: OnboardingSpec, report: CutoverReport) -> State[Any]:
    """Publish the report and end in the state its outcome calls for."""
    folder = publish_cutover(spec, report)
    result = CutoverResult.of(report, folder).warned(spec.warnings)
    return end(result, name=report.ending, cancelled=report.outcome is CutoverOutcome.DECLINED)
