"""Tasks of the ``cutover`` flow: thin wrappers over ``onboarding.cutover`` and the probes.

Every task takes the spec as a model; the control-panel key comes from the flow run's vault
(:mod:`tasks.vault`). No task persists a result or has a cache key. No task retries on its own: the
control-panel client retries transient HTTP failures, and every step looks before it writes,
so the way to recover from anything is to re-run the flow.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal, TypeVar, cast

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import Field

from onboarding.cutover import (
    STEP_COLUMNS,
    CutoverReport,
    DomainMissing,
    DomainPhase,
    DomainState,
    FollowUp,
    Readiness,
    StepResult,
    assess_readiness,
    hold_delivery,
    ledger_path,
    load_ledger,
    noted_mx_ttls,
    read_domain_state,
    release_delivery,
    require_ledger,
    save_ledger,
    switch_routing,
)
from onboarding.dnscheck import run_propagation
from onboarding.mailsync.review import load_approvals, load_latest
from onboarding.reports import RunFolder
from tasks.adapters import control_panel, cutover_domains, delivery_target, dkim_keys, dns_inputs
from tasks.vault import current_vault
from validation.spec import OnboardingSpec

__all__ = [
    "CATCHUP_DEPLOYMENT",
    "FOLLOWUP_DEPLOYMENT",
    "CutoverApproval",
    "DnsChanged",
    "ItemsApproval",
    "ask_approval",
    "ask_dns_changed",
    "ask_items_approval",
    "bad_items",
    "cutover_started",
    "domain_states",
    "hold_all",
    "mark_completed",
    "plan_cutover",
    "publish_cutover",
    "release_all",
    "schedule_catchups",
    "schedule_followup",
    "switch_all",
    "wait_until_ready",
]

FOLLOWUP_DEPLOYMENT = "verify/follow-up"
CATCHUP_DEPLOYMENT = "migrate/catch-up"
_APPROVAL_POLL_SECONDS = 2
_READY_POLL_SECONDS = 5.0


class _Answer(RunInput):
    """A Resume form's answer: ``decision`` has no default, so the form cannot be submitted
    without choosing and Submit never declines (or approves) by accident."""

    YES: ClassVar[str] = "approve"
    decision: str
    notes: str = Field("", description="Why (kept in the report)")

    @property
    def yes(self) -> bool:
        """The operator chose to go on (:data:`YES`)."""
        return self.decision == self.YES


_Form = TypeVar("_Form", bound=_Answer)


class CutoverApproval(_Answer):
    """The operator's go/no-go for the cutover (the UI's Resume form)."""

    decision: Literal["approve", "decline"] = Field(description="approve: cut over; decline: stop")


def _whose(spec: OnboardingSpec) -> str:
    """``Acme Corp (acme-corp)``: the customer a form is about, by name and slug."""
    return f"{spec.customer} (`{spec.customer_slug}`)"


@task(name="read-domain-states", persist_result=False, cache_policy=NO_CACHE)
def domain_states(spec: OnboardingSpec) -> tuple[DomainState, ...]:
    """Each domain's hold and routing as the control panel has them now (the domains being
    cut over; a new domain is hosted from the start and has no cutover).

    Raise :class:`~onboarding.cutover.LedgerMissing` when the cutover has started but its
    ledger is not in the spec's output folder: starting over would forget the DNS change
    time and give the cutover a second id (and a second follow-up).
    """
    with control_panel(spec, current_vault()) as cp:
        target = delivery_target(spec)
        states = tuple(read_domain_state(cp, d, target) for d in cutover_domains(spec))
    started = [s.domain for s in states if s.phase is not DomainPhase.PENDING]
    require_ledger(ledger_path(spec.output_dir, spec.customer_slug), started=started)
    return states


@task(name="check-cutover-readiness", persist_result=False, cache_policy=NO_CACHE)
def wait_until_ready(spec: OnboardingSpec, wait_seconds: float = 0.0) -> Readiness:
    """Propagation plus the TTL rule; poll up to ``wait_seconds`` when the ETA is known."""
    keys = dkim_keys(spec, current_vault())
    records = {d: k.record if k else None for d, k in keys.items()}
    inputs = dns_inputs(spec, only=cutover_domains(spec))  # a new domain waits for nothing
    path = ledger_path(spec.output_dir, spec.customer_slug)
    deadline = time.monotonic() + wait_seconds
    noted = noted_mx_ttls(spec.output_dir, spec.customer_slug)
    while True:
        propagation = run_propagation(inputs, dkim_records=records)
        readiness, ledger = assess_readiness(
            propagation,
            load_ledger(path),
            noted_mx_ttls=noted,
            ttl_multiple=spec.cutover.ttl_multiple,
            now=datetime.now(UTC),
        )
        save_ledger(path, ledger)
        left = deadline - time.monotonic()
        eta = readiness.eta_seconds
        # An ETA beyond the wait cannot be met: refuse at once rather than wait in vain.
        if readiness.ready or left <= 0 or (eta is not None and eta > left):
            get_run_logger().info("%s", readiness.message)
            return readiness
        get_run_logger().info("%s; checking again", readiness.message)
        time.sleep(min(left, max(1.0, min(float(eta or _READY_POLL_SECONDS), 30.0))))


def _ask_operator(spec: OnboardingSpec, form: type[_Form], *, key: str) -> _Form:
    """Pause the flow run until an operator submits ``form`` (or the approval timeout ends)."""
    answer: _Form = pause_flow_run(
        wait_for_input=form,
        timeout=int(spec.cutover.approval_timeout_hours * 3600),
        poll_interval=_APPROVAL_POLL_SECONDS,
        key=key,
    )
    return answer


def ask_approval(spec: OnboardingSpec, readiness: Readiness) -> CutoverApproval:
    """Pause the flow run until an operator approves or declines in the UI (or the API)."""
    description = (
        f"**Cut over {_whose(spec)}** ({', '.join(cutover_domains(spec))}): hold delivery, "
        f"final sync, route to {spec.hosted.delivery_host}:{spec.hosted.delivery_port}, "
        f"release.\n\nDNS: {readiness.message}\n\nChoose **approve** or **decline**."
    )
    form = CutoverApproval.with_initial_data(description=description)
    return _ask_operator(spec, form, key=f"cutover-approval-{spec.customer_slug}")


@task(name="plan-cutover", persist_result=False, cache_policy=NO_CACHE)
def plan_cutover(spec: OnboardingSpec) -> str:
    """The id of the cutover about to ask for approval (the same on every re-run)."""
    path = ledger_path(spec.output_dir, spec.customer_slug)
    ledger = load_ledger(path).planned(datetime.now(UTC))
    save_ledger(path, ledger)
    assert ledger.cutover_id is not None
    return ledger.cutover_id


@task(name="hold-delivery", persist_result=False, cache_policy=NO_CACHE)
def hold_all(spec: OnboardingSpec) -> tuple[StepResult, ...]:
    """Record the cutover as started, then hold every domain being cut over that is not yet
    held (no second hold); a new domain (hosted from the start) is never held."""
    path = ledger_path(spec.output_dir, spec.customer_slug)
    save_ledger(path, load_ledger(path).started(datetime.now(UTC)))
    with control_panel(spec, current_vault()) as cp:
        return tuple(hold_delivery(cp, d) for d in cutover_domains(spec))


@task(name="switch-routing", persist_result=False, cache_policy=NO_CACHE)
def switch_all(spec: OnboardingSpec) -> tuple[StepResult, ...]:
    """Route every domain being cut over to the hosted mailboxes (only those not there yet)."""
    with control_panel(spec, current_vault()) as cp:
        return tuple(switch_routing(cp, d, delivery_target(spec)) for d in cutover_domains(spec))


@task(name="release-hold", persist_result=False, cache_policy=NO_CACHE)
def release_all(spec: OnboardingSpec) -> tuple[StepResult, ...]:
    """Release every held domain being cut over (only those still held)."""
    with control_panel(spec, current_vault()) as cp:
        return tuple(release_delivery(cp, d) for d in cutover_domains(spec))


@task(name="mark-cutover-completed", persist_result=False, cache_policy=NO_CACHE)
def mark_completed(spec: OnboardingSpec) -> tuple[str, datetime]:
    """Note the completion in the ledger; return the cutover id and completion time.

    Both stay the same on every later re-run, so the follow-up is due at one fixed time and
    scheduled once (its idempotency key carries the id).
    """
    path = ledger_path(spec.output_dir, spec.customer_slug)
    now = datetime.now(UTC)
    ledger = load_ledger(path).started(now).completed(now)
    save_ledger(path, ledger)
    assert ledger.cutover_id is not None and ledger.completed_at is not None
    return ledger.cutover_id, ledger.completed_at


@task(name="schedule-follow-up-verification", persist_result=False, cache_policy=NO_CACHE)
def schedule_followup(
    spec: OnboardingSpec, cutover_id: str, under_deployment: bool, completed_at: datetime
) -> FollowUp:
    """Schedule ``verify/follow-up`` ``after_hours`` after the cutover, once per cutover.

    Only a run under a deployment can rely on a scheduler and workers to pick it up later; a
    local run records when it is due and how to run it.
    """
    spec_path = spec.spec_path
    due = completed_at + timedelta(hours=spec.followup.after_hours)
    how = (
        f"run `onboard verify {spec_path}` after {due:%Y-%m-%d %H:%M} UTC, or `prefect "
        f"deployment run {FOLLOWUP_DEPLOYMENT} -p spec_path={spec_path} --start-at "
        f"'{due:%Y-%m-%d %H:%M}'`"
    )
    if not under_deployment:
        return FollowUp(due, how_to_run=how)
    run = cast(
        FlowRun,
        run_deployment(
            FOLLOWUP_DEPLOYMENT,
            parameters={"spec_path": str(spec_path), "followup": True},
            scheduled_time=due,
            timeout=0,
            as_subflow=False,
            idempotency_key=f"verify-{spec.customer_slug}-{cutover_id}",
        ),
    )
    get_run_logger().info("follow-up verification scheduled for %s: %s", due, run.id)
    return FollowUp(due, flow_run_id=str(run.id), how_to_run=how)


@task(name="schedule-catch-up-passes", persist_result=False, cache_policy=NO_CACHE)
def schedule_catchups(
    spec: OnboardingSpec, cutover_id: str, under_deployment: bool, completed_at: datetime
) -> tuple[FollowUp, ...]:
    """One incremental pass ``cutover.catchup_after_hours`` after the cutover, each once.

    Mail the old server still receives after the switch (resolvers and senders holding the
    old MX, the old provider's own mail) reaches the hosted mailboxes this way. Under a
    deployment each is a scheduled run of ``migrate/catch-up`` with an idempotency key per
    cutover and delay; a local run records when each is due and how to run it.
    """
    if not spec.migration.enabled:
        return ()
    spec_path = spec.spec_path
    out: list[FollowUp] = []
    for hours in spec.cutover.catchup_after_hours:
        due = completed_at + timedelta(hours=hours)
        how = (
            f"run `onboard migrate {spec_path} --pass incremental` after {due:%Y-%m-%d %H:%M} "
            f"UTC, or `prefect deployment run {CATCHUP_DEPLOYMENT} -p spec_path={spec_path} "
            f"--start-at '{due:%Y-%m-%d %H:%M}'`"
        )
        if not under_deployment:
            out.append(FollowUp(due, how_to_run=how))
            continue
        run = cast(
            FlowRun,
            run_deployment(
                CATCHUP_DEPLOYMENT,
                parameters={"spec_path": str(spec_path), "pass_kind": "incremental"},
                scheduled_time=due,
                timeout=0,
                as_subflow=False,
                idempotency_key=f"catchup-{spec.customer_slug}-{cutover_id}-{hours:g}h",
            ),
        )
        get_run_logger().info("catch-up pass scheduled for %s: %s", due, run.id)
        out.append(FollowUp(due, flow_run_id=str(run.id), how_to_run=how))
    return tuple(out)


class ItemsApproval(CutoverApproval):
    """The operator's word on known failed items before the hold (the UI's Resume form)."""


@task(name="check-failed-items", persist_result=False, cache_policy=NO_CACHE)
def bad_items(spec: OnboardingSpec) -> tuple[dict[str, str], list[dict[str, object]]]:
    """What would stop the final pass, from the latest migrate table and today's approvals.

    Returns mailbox → why (empty when nothing stands in the way) and the rows to show.
    """
    folder = Path(spec.output_dir) / spec.customer_slug
    approvals, latest = load_approvals(folder), load_latest(folder)
    blocking = latest.blocking(approvals.keys, spec.migration.bad_item_limit)
    rows = [r for r in latest.rows(approvals.keys) if r["mailbox"] in blocking]
    return blocking, rows


def ask_items_approval(
    spec: OnboardingSpec, blocking: dict[str, str], rows: list[dict[str, object]]
) -> ItemsApproval:
    """Pause until an operator approves the listed items (or declines: nothing is held)."""
    listing = "\n".join(
        f"| {r['mailbox']} | {r['folder']} | {r['reason']} | {r['fix']} | {r['approval']} |"
        for r in rows[:50]
    )
    more = (
        f"\n\n… and {len(rows) - 50} more in the failed-transfers table" if len(rows) > 50 else ""
    )
    description = (
        f"**Before holding the mail of {_whose(spec)}**: the latest migration left items that "
        "would stop the final pass: "
        + "; ".join(f"{m} ({why})" for m, why in blocking.items())
        + ".\n\nChoose **approve** to accept the listed items (the cutover then goes past "
        "them and stops only on new ones), or **decline** and fix them first. Mailboxes "
        "that failed as a whole cannot be approved.\n\n"
        "| mailbox | folder | reason | fix | approval |\n|---|---|---|---|---|\n" + listing + more
    )
    answer: ItemsApproval = pause_flow_run(
        wait_for_input=ItemsApproval.with_initial_data(description=description),
        timeout=int(spec.cutover.approval_timeout_hours * 3600),
        poll_interval=_APPROVAL_POLL_SECONDS,
        key=f"failed-items-approval-{spec.customer_slug}",
    )
    return answer


@task(name="publish-cutover-report", persist_result=False, cache_policy=NO_CACHE)
def publish_cutover(spec: OnboardingSpec, report: CutoverReport) -> Path:
    """The ``cutover-<slug>`` artifact and the same in the run folder."""
    slug = spec.customer_slug
    folder = RunFolder.create(spec.output_dir, slug, "cutover")
    markdown = report.markdown()
    folder.write_text("cutover.md", markdown)
    rows = [s.to_dict() for s in report.steps]
    folder.write_csv("steps.csv", rows, STEP_COLUMNS)
    folder.write_json("cutover.json", report.to_dict())
    create_markdown_artifact(
        markdown, key=f"cutover-{slug}", description=f"{spec.customer}: {report.outcome}"
    )
    if rows:
        create_table_artifact(rows, key=f"cutover-steps-{slug}", description=report.message)
    get_run_logger().info("%s; report in %s", report.message, folder.path)
    return folder.path


class DnsChanged(_Answer):
    """The operator's word that the customer published the DNS records (the Resume form)."""

    YES: ClassVar[str] = "published"
    decision: Literal["published", "not-yet"] = Field(description="not-yet: stop here")


def ask_dns_changed(spec: OnboardingSpec, records_artifact: str) -> DnsChanged:
    """Pause until an operator confirms the customer changed DNS (or says they did not)."""
    description = (
        f"Send {_whose(spec)} the records in the `{records_artifact}` artifact. Choose "
        "**published** once they have published them (the cutover then checks propagation "
        "and the TTL wait itself), or **not-yet** to stop here."
    )
    form = DnsChanged.with_initial_data(description=description)
    return _ask_operator(spec, form, key=f"dns-changed-{spec.customer_slug}")


@task(name="cutover-started", persist_result=False, cache_policy=NO_CACHE)
def cutover_started(spec: OnboardingSpec) -> bool:
    """True when some domain being cut over is already held or routed to the hosted
    mailboxes (a new domain is routed there from the start, so it does not count)."""
    try:
        with control_panel(spec, current_vault()) as cp:
            target = delivery_target(spec)
            states = [read_domain_state(cp, d, target) for d in cutover_domains(spec)]
    except DomainMissing:
        return False
    return any(s.phase is not DomainPhase.PENDING for s in states)
