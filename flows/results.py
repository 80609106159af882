"""What every flow returns: one typed model per flow, whose JSON is ``onboard … --format json``.

Each model has ``ok`` (the run did what it should), ``message`` (one line for people) and, for
flows that write reports, ``run_folder``; the rest is the flow's report, field for field as
its engine renders it (``to_dict`` / ``as_json``). Every model forbids extra keys, so an
engine that changes its report without this contract fails the tests, and the JSON schema
of every model is checked in (``docs/flow-results.schema.json``) and tested for drift.

A failed run returns its model too: reports are the same shape whether the run succeeded or
not (STYLE.md rule 7). A Failed (or Cancelled) state carries it inside a :class:`RunEnded`
exception, the one kind of failed-state data Prefect resolves without complaint (any other
data makes ``state.result()`` raise ``TypeError: Unexpected result for failed state``, which a
worker prints with a traceback). Read a state's result with :func:`result_of`. The engine's
"exited with unexpected exception" log records for a :class:`RunEnded` are dropped (see
:func:`_quiet_run_ended`): the run's final state message already is the report's one line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Self

from prefect.states import Cancelled, Completed, Failed, State
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    InstanceOf,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from onboarding.clientconfig import LookupResult
from onboarding.cutover.routing import StepResult
from onboarding.dnscheck import Finding
from onboarding.mailflow import AccountCheck, ClientCheck, ProbeResult
from onboarding.mailsync.report import MailboxResult
from validation.users import UserListReport

if TYPE_CHECKING:
    from pathlib import Path

    from onboarding.controlpanel import ProvisioningReport
    from onboarding.cutover import CutoverReport, VerificationReport
    from onboarding.dnscheck import CheckReport, DNSPlan, PropagationSummary
    from onboarding.mailsync import SyncPlan
    from onboarding.mailsync.report import MigrationReport
    from tasks.client_guides import GuidesWritten
    from tasks.customer_lock import CustomerBusy

__all__ = [
    "RESULT_MODELS",
    "BatchRow",
    "ClientGuidesResult",
    "CustomerBusyResult",
    "CutoverResult",
    "DNSCheckResult",
    "DNSPlanResult",
    "FlowResult",
    "MigrateBatchResult",
    "MigrateResult",
    "MigrationPlanResult",
    "OnboardResult",
    "PreflightResult",
    "PropagationResult",
    "ProvisionResult",
    "RunEnded",
    "UserValidationResult",
    "VerifyResult",
    "WarnedResult",
    "end",
    "json_schema",
    "result_of",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class FlowResult(_Model):
    """The fields every flow's result has."""

    ok: bool
    message: str = ""
    run_folder: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` object (aliases such as ``pass`` as the JSON has them)."""
        return self.model_dump(mode="json", by_alias=True)


class WarnedResult(FlowResult):
    """A result of a flow that talks to the source server (migrate, preflight, cutover)."""

    warnings: tuple[str, ...] = ()  # the spec's (allow_plaintext, tls_verify false)

    def warned(self, warnings: tuple[str, ...]) -> Self:
        """This result naming the spec's ``warnings`` (tls_verify false, allow_plaintext) in
        ``warnings`` and at the end of its message, as every report of such a spec must."""
        if not warnings:
            return self
        text = "; ".join(f"warning: {w}" for w in warnings)
        message = f"{self.message}; {text}" if self.message else text
        return self.model_copy(update={"warnings": warnings, "message": message})


# -- validate-users ------------------------------------------------------------------------


class UserProblemRow(_Model):
    row: int
    column: str
    problem: str


class UserValidationResult(FlowResult):
    """``validate-users``: whether the CSV is usable, its row count and every problem.

    Its JSON is exactly ``ok``, ``valid``, ``rows`` and ``errors`` (row, column, problem);
    the whole report (masked values, fixes, the validated users) travels beside it for the
    terminal and for later steps, never in the JSON.
    """

    message: str = Field(default="", exclude=True)
    run_folder: str | None = Field(default=None, exclude=True)
    valid: bool
    rows: int
    errors: tuple[UserProblemRow, ...]
    report: InstanceOf[UserListReport] = Field(exclude=True)

    @classmethod
    def of(cls, report: UserListReport, run_folder: Path, message: str) -> UserValidationResult:
        report = dataclasses.replace(report, run_folder=str(run_folder))
        return cls(
            ok=report.valid,
            message=message,
            run_folder=str(run_folder),
            valid=report.valid,
            rows=report.rows,
            errors=tuple(
                UserProblemRow(row=p.row, column=p.column, problem=p.problem)
                for p in report.problems
            ),
            report=report,
        )


# -- provision ---------------------------------------------------------------------------------


class SetupRow(_Model):
    kind: str
    name: str
    result: str
    detail: str
    action: str


class AccountCounts(_Model):
    total: int
    created: int
    already_existed: int = Field(alias="already existed")
    failed: int
    logins_ok: int
    logins_failed: int
    reconciles: bool
    http_requests: dict[str, int]


class AliasCounts(_Model):
    total: int
    created: int
    already_existed: int = Field(alias="already existed")
    conflict: int
    failed: int
    reconciles: bool
    http_requests: dict[str, int]


class FailedAccount(_Model):
    email: str
    reason: str


class AliasProblem(_Model):
    alias: str
    account: str
    result: str
    reason: str
    action: str


class ProvisionResult(FlowResult):
    """``provision``: each control-panel object, account and alias and what it ended as."""

    setup: tuple[SetupRow, ...]
    conflicts: int
    stopped: str | None = None
    accounts: AccountCounts | None = None
    failed: tuple[FailedAccount, ...] = ()
    aliases: AliasCounts | None = None
    alias_problems: tuple[AliasProblem, ...] = ()

    @model_serializer(mode="wrap")
    # No return annotation: pydantic then keeps this model's own serialization schema.
    def _only_what_ran(self, handler: SerializerFunctionWrapHandler):
        """Leave out the sections of steps that did not run (self-service has no accounts)."""
        data: dict[str, Any] = handler(self)
        for section, companion in (("accounts", "failed"), ("aliases", "alias_problems")):
            if data.get(section) is None:
                data.pop(section, None)
                data.pop(companion, None)
        if data.get("stopped") is None:
            data.pop("stopped", None)
        return data

    @classmethod
    def of(cls, report: ProvisioningReport, run_folder: Path) -> ProvisionResult:
        data = report.to_dict() | {"run_folder": str(run_folder)}
        return cls.model_validate(data | {"ok": report.ok, "message": report.message})

    @classmethod
    def stopped_by(cls, error: Exception) -> ProvisionResult:
        """The key was refused (or the API unusable) before any change: nothing was done."""
        message = f"stopped before any change: {error}"
        return cls(ok=False, message=message, setup=(), conflicts=0, stopped=str(error))


# -- migrate -------------------------------------------------------------------------------------


class MailboxRow(_Model):
    mailbox: str
    status: str
    in_scope: int
    copied: int
    already_present: int
    source_duplicates: int
    skipped: int
    failed: int
    deferred: int
    new_items: int
    approved_items: int
    reconciles: bool
    bytes_copied: int
    flags_updated: int
    seconds: float
    messages_per_second: float
    reconnects: int
    retries: int
    throttle_waits: int = 0
    paused: str = ""  # "resumes at 14:00 UTC (2026-12-03)" when the daily byte cap paused it
    error: str
    verdict: str
    gmail: str = ""  # what was done with a Gmail source's All Mail, Starred, Important


class FailedTransfer(_Model):
    mailbox: str
    folder: str
    reason: str
    fix: str
    approval: str
    outcome: str
    size: int | str
    internaldate: str
    message_id: str
    uid: int | str
    error_class: str
    pass_kind: str = Field(alias="pass")


class BatchRow(_Model):
    """One batch of a migration spread over the work pool: its child flow runs, in order."""

    batch: int
    mailboxes: int
    flow_runs: tuple[str, ...]
    state: str
    attempts: int


class MigrateResult(WarnedResult):
    """``migrate``: per-mailbox counts, the reconciliation equation, every failed item.

    ``problem_mailboxes`` fail the bad-item policy; ``failed_transfers_table`` says where the
    customer's whole latest table is (the artifact's UI link, else the CSV). ``batches`` lists
    the child flow runs of a migration spread over the work pool (empty when it ran in one
    process).
    """

    customer: str
    pass_kind: str = Field(alias="pass")
    equation: str
    totals: dict[str, int]
    failed_mailboxes: int
    bad_item_limit: int
    problem_mailboxes: tuple[str, ...]
    failed_transfers_table: str
    mailboxes: tuple[MailboxRow, ...]
    failed_transfers: tuple[FailedTransfer, ...]
    batches: tuple[BatchRow, ...] = ()
    nightly_schedule: str | None = None  # after an initial pass: the customer's nightly pass

    @classmethod
    def of(
        cls,
        report: MigrationReport,
        run_folder: str,
        table: str,
        batches: Sequence[BatchRow] = (),
    ) -> MigrateResult:
        data = report.as_json()
        if report.ok:
            message = report.equation
        else:
            message = (
                f"migration has problems in {len(report.problem_mailboxes)} mailbox(es): "
                f"{report.problems_text}; table {table}; {report.equation}"
            )
        extra = {
            "message": message,
            "run_folder": run_folder,
            "failed_transfers_table": table,
            "batches": tuple(batches),
        }
        return cls.model_validate(data | extra)


class MigrateBatchResult(FlowResult):
    """``migrate-batch``: one batch's mailboxes, for the parent ``migrate`` run to aggregate.

    ``outcomes`` (the engine's per-mailbox results, no secret in them) travel to the parent
    in the persisted result and never into the JSON; the parent builds the one report.
    """

    customer: str
    pass_kind: str = Field(alias="pass")
    batch: int
    mailboxes: tuple[str, ...]
    copied: int
    failed_mailboxes: int
    outcomes: tuple[InstanceOf[MailboxResult], ...] = Field(default=(), exclude=True)

    @classmethod
    def of(
        cls, customer: str, pass_kind: str, batch: int, results: Sequence[MailboxResult]
    ) -> MigrateBatchResult:
        copied = sum(r.outcome.copied for r in results if r.outcome is not None)
        failed = sum(1 for r in results if r.outcome is None or r.outcome.error)
        counts = f"{len(results)} mailbox(es), {copied} copied, {failed} failed as a whole"
        mailboxes = tuple(r.mailbox for r in results)
        return cls.model_validate(
            {"ok": failed == 0, "message": f"batch {batch}: {counts}", "customer": customer}
            | {"pass": pass_kind, "batch": batch, "mailboxes": mailboxes, "copied": copied}
            | {"failed_mailboxes": failed, "outcomes": tuple(results)}
        )


class FolderPlanRow(_Model):
    source: str
    source_display: str
    destination: str | None
    destination_display: str | None
    action: str
    reason: str
    messages: int
    bytes: int
    special_use: str | None
    notes: tuple[str, ...]
    too_big: int
    too_big_bytes: int


class MailboxPlanRow(_Model):
    mailbox: str
    pass_kind: str
    folders: tuple[FolderPlanRow, ...]
    messages: int
    bytes: int


class MigrationPlanResult(FlowResult):
    """``migrate --dry-run``: the folder map with counts and sizes; nothing was written."""

    dry_run: Literal[True] = True
    pass_kind: str = Field(alias="pass")
    mailboxes: tuple[MailboxPlanRow, ...]

    @classmethod
    def of(cls, plans: Sequence[SyncPlan], pass_kind: str) -> MigrationPlanResult:
        rows = [{**dataclasses.asdict(p), "messages": p.messages, "bytes": p.bytes} for p in plans]
        errors = sum(len(p.errors) for p in plans)
        return cls.model_validate(
            {
                "ok": True,  # folder errors are listed; the real run reports them as failures
                "message": f"dry run ({pass_kind} pass): {len(plans)} mailbox(es), "
                f"{sum(p.messages for p in plans):,} messages, "
                f"{sum(p.bytes for p in plans) / 1e6:,.1f} MB would be considered; "
                f"{errors} folder error(s); nothing was written",
                "pass": pass_kind,
                "mailboxes": rows,
            }
        )


class PreflightUserRow(_Model):
    mailbox: str
    status: str
    ok: bool
    failed_side: str | None
    error: str | None
    fix: str | None
    folders: int
    messages: int
    bytes: int
    largest_message: int | None
    message_size_limit: int
    too_big: int
    fits_message_limit: bool | None
    quota_free_bytes: int | None
    fits_quota: bool | None
    sample_messages: int | None
    sample_bytes_per_second: float | None
    eta_seconds: float | None
    source_capabilities: tuple[str, ...]
    destination_capabilities: tuple[str, ...]


class PreflightResult(WarnedResult):
    """``preflight``: every selected user on both sides, sizes, limits and an estimated time.

    ``failed`` names every user that cannot be migrated as things stand (a login, TLS or
    connection problem on either side, or a mailbox larger than the free quota);
    ``eta_seconds`` is the whole customer at ``parallel`` mailboxes at once (None while a
    user's rate is unknown).
    """

    customer: str
    users: tuple[PreflightUserRow, ...]
    failed: tuple[str, ...]
    messages: int
    bytes: int
    parallel: int
    eta_seconds: float | None

    @classmethod
    def of(
        cls, customer: str, rows: Sequence[dict[str, object]], parallel: int, run_folder: str
    ) -> PreflightResult:
        users = tuple(PreflightUserRow.model_validate(r) for r in rows)
        failed = tuple(u.mailbox for u in users if not u.ok)
        etas = [u.eta_seconds for u in users if u.ok]
        eta = None
        if all(e is not None for e in etas):
            known = [e for e in etas if e is not None]
            eta = max([sum(known) / max(parallel, 1), *known], default=0.0)
        total = sum(u.bytes for u in users)
        when = "unknown" if eta is None else f"about {_duration(eta)}"
        message = (
            f"{len(users) - len(failed)}/{len(users)} user(s) ready, "
            f"{sum(u.messages for u in users):,} messages, {total / 1e6:,.1f} MB, "
            f"estimated {when} at {parallel} mailbox(es) at once"
        )
        if failed:
            message = (
                f"{len(failed)} user(s) cannot be migrated: "
                + ", ".join(f"{u.mailbox} ({u.status})" for u in users if not u.ok)
                + f"; {message}"
            )
        return cls(
            ok=not failed,
            message=message,
            run_folder=run_folder,
            customer=customer,
            users=users,
            failed=failed,
            messages=sum(u.messages for u in users),
            bytes=total,
            parallel=parallel,
            eta_seconds=None if eta is None else round(eta, 3),
        )


def _duration(seconds: float) -> str:
    """``3725`` → ``"1 h 2 min"``; under a minute in seconds."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


# -- DNS -----------------------------------------------------------------------------------------


class DKIMRow(_Model):
    selector: str
    bits: int
    reused: bool
    record_name: str


class ChangeRow(_Model):
    action: str
    name: str
    type: str
    ttl: int
    value: str
    why: str


class DomainPlanRow(_Model):
    domain: str
    mx_ttl: int | None
    negative_ttl: int | None
    cutover_wait_seconds: int | None
    earliest_cutover: str | None
    spf_record: str
    spf_lookups: int | None
    spf_void_lookups: int | None
    dkim: DKIMRow
    changes: tuple[ChangeRow, ...]
    findings: tuple[Finding, ...]


class DNSPlanResult(FlowResult):
    """``dns-plan``: per domain the records to remove and add, the MX TTL, the earliest cutover."""

    customer: str
    customer_slug: str
    generated_at: str
    domains: tuple[DomainPlanRow, ...]

    @classmethod
    def of(cls, plan: DNSPlan, run_folder: Path) -> DNSPlanResult:
        message = f"{len(plan.domains)} domain(s), {len(plan.warnings)} warning(s)"
        data = plan.to_dict() | {"ok": True, "message": message, "run_folder": str(run_folder)}
        return cls.model_validate(data)


class CheckRow(_Model):
    check: str
    domain: str
    status: str
    valid: bool
    record: str | None
    error: str | None
    findings: tuple[Finding, ...]


class DNSCheckResult(FlowResult):
    """``dns-check``: MX, SPF, DKIM and DMARC per domain, each with its findings and fix."""

    status: str
    results: tuple[CheckRow, ...]

    @classmethod
    def of(cls, report: CheckReport, run_folder: Path) -> DNSCheckResult:
        failed = [r for r in report.results if not r.valid]
        message = f"{len(report.results)} check(s), {len(failed)} failed"
        extra = {"ok": not failed, "message": message, "run_folder": str(run_folder)}
        return cls.model_validate(report.to_dict() | extra)


class ObservationRow(_Model):
    server: str
    role: str
    name: str
    type: str
    state: str
    records: tuple[str, ...]
    ttl: int | None
    error: str | None


class DomainPropagationRow(_Model):
    domain: str
    serials: dict[str, int | None]
    serials_equal: bool
    published: bool
    propagated: bool
    eta_seconds: int | None
    observations: tuple[ObservationRow, ...]


class PropagationResult(FlowResult):
    """``dns-check --propagation``: every server's view per domain, and the ETA."""

    propagated: bool
    eta_seconds: int | None
    domains: tuple[DomainPropagationRow, ...]

    @classmethod
    def of(cls, summary: PropagationSummary, run_folder: Path) -> PropagationResult:
        extra = {"ok": summary.propagated, "message": summary.message}
        return cls.model_validate(summary.to_dict() | extra | {"run_folder": str(run_folder)})


# -- client guides ------------------------------------------------------------------------------


class ClientGuidesResult(FlowResult):
    """``client-guides``: files written (relative to ``run_folder``), users, files to publish."""

    users: int
    files: tuple[str, ...]
    publish: tuple[str, ...]

    @classmethod
    def of(cls, written: GuidesWritten) -> ClientGuidesResult:
        message = (
            f"client guides written: the guide, {written.users} user sheet(s), "
            f"{len(written.publish)} file(s) to publish"
        )
        return cls(
            ok=True,
            message=message,
            run_folder=str(written.folder),
            users=written.users,
            files=written.files,
            publish=written.publish,
        )


# -- cutover and verify ----------------------------------------------------------------------


class DomainReadinessRow(_Model):
    domain: str
    ready: bool
    published: bool
    propagated: bool
    mx_ttl: int | None
    dns_changed_at: str | None
    ready_at: str | None
    eta_seconds: int | None
    reason: str


class ReadinessRow(_Model):
    ready: bool
    eta_seconds: int | None
    checked_at: str
    ttl_multiple: float
    message: str
    domains: tuple[DomainReadinessRow, ...]


class DomainStateRow(_Model):
    domain: str
    phase: str
    held: bool
    routing: tuple[str, ...]


class FollowUpRow(_Model):
    due_at: str
    scheduled_flow_run_id: str | None
    how_to_run: str


class NoticeSummaryRow(_Model):
    kind: str
    cutover_id: str
    language: str
    sent: int
    already_sent: int
    failed: int
    message: str


class CutoverResult(WarnedResult):
    """``cutover``: how it ended, what was seen (readiness, domains) and done (steps, probes)."""

    customer: str
    outcome: str
    cutover_id: str | None
    readiness: ReadinessRow | None
    before: tuple[DomainStateRow, ...]
    steps: tuple[StepResult, ...]
    changes: int
    approval: str | None
    final_sync: str | None
    held_mail_probes: tuple[ProbeResult, ...]
    mail_flow_probes: tuple[ProbeResult, ...]
    followup: FollowUpRow | None
    new_domains: tuple[str, ...]
    test_accounts: tuple[ClientCheck, ...]
    notices: tuple[NoticeSummaryRow, ...]
    catchup_passes: tuple[FollowUpRow, ...]

    @classmethod
    def of(cls, report: CutoverReport, run_folder: Path) -> CutoverResult:
        extra = {"ok": report.ok, "run_folder": str(run_folder)}
        return cls.model_validate(report.to_dict() | extra)


class AccountsSummary(_Model):
    total: int
    ok: int
    failed: int
    results: tuple[AccountCheck, ...]


class IssueRow(_Model):
    area: str
    subject: str
    problem: str
    fix: str


class DNSChecks(_Model):
    status: str
    results: tuple[CheckRow, ...]


class CatchupRow(_Model):
    started_at: str
    pass_kind: str = Field(alias="pass")
    ok: bool
    copied: int
    mailboxes: dict[str, int]


class VerifyResult(FlowResult):
    """``verify``: logins, mail flow per domain and alias, DNS checks, client set-up lookups,
    every open issue, and the customer's report (``customer_report``: its Markdown file)."""

    customer: str
    checked_at: str
    followup: bool
    summary: str
    accounts: AccountsSummary
    mail_flow: tuple[ProbeResult, ...]
    aliases: tuple[ProbeResult, ...]
    dns: DNSChecks | None
    client_config: tuple[LookupResult, ...]
    open_issues: tuple[IssueRow, ...]
    notes: tuple[str, ...]
    customer_report: str | None = None
    catchup_passes: tuple[CatchupRow, ...]

    @classmethod
    def of(
        cls, report: VerificationReport, run_folder: Path, customer_report: Path | None = None
    ) -> VerifyResult:
        data = report.to_dict() | {"run_folder": str(run_folder), "message": report.summary}
        report_path = None if customer_report is None else str(customer_report)
        return cls.model_validate(data | {"customer_report": report_path})


# -- the whole runbook -------------------------------------------------------------------------


class PhaseRow(_Model):
    phase: str
    state: str
    message: str


class OnboardResult(FlowResult):
    """``onboard``: each phase in order with how it ended; ``completed`` when all did."""

    completed: bool
    phases: tuple[PhaseRow, ...]


class CustomerBusyResult(FlowResult):
    """Any customer flow refused at once: another run holds the customer's slot."""

    limit: str
    holder: str

    @classmethod
    def of(cls, busy: CustomerBusy) -> CustomerBusyResult:
        return cls(ok=False, message=str(busy), limit=busy.limit, holder=busy.holder)


RESULT_MODELS: tuple[type[FlowResult], ...] = (
    UserValidationResult,
    ProvisionResult,
    MigrateResult,
    MigrateBatchResult,
    MigrationPlanResult,
    PreflightResult,
    DNSPlanResult,
    DNSCheckResult,
    PropagationResult,
    ClientGuidesResult,
    CutoverResult,
    VerifyResult,
    OnboardResult,
    CustomerBusyResult,
)


def json_schema() -> str:
    """The JSON schema of every flow result, as checked in at docs/flow-results.schema.json."""
    schemas = {
        m.__name__: m.model_json_schema(by_alias=True, mode="serialization") for m in RESULT_MODELS
    }
    return json.dumps(schemas, indent=2, sort_keys=True) + "\n"


class RunEnded(Exception):
    """A Failed or Cancelled run's typed result; ``str()`` is the result's one-line message."""

    def __init__(self, result: FlowResult) -> None:
        super().__init__(result.message)
        self.result = result

    def __reduce__(self) -> tuple[Any, ...]:  # results are pickled when persisted
        return (type(self), (self.result,))


def result_of(state: State[Any]) -> Any:
    """The typed result ``state`` carries (a :class:`FlowResult`), else what Prefect resolves.

    A run that raised gives its exception (a spec or user-list problem); a run without data
    gives ``None``. Never raises for a failed state.
    """
    data = state.result(raise_on_failure=False)
    return data.result if isinstance(data, RunEnded) else data


class _QuietRunEnded(logging.Filter):
    """Drop the engine's "exited with unexpected exception" records for a :class:`RunEnded`."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, RunEnded)


def _quiet_run_ended() -> None:
    """Install the filter once on the loggers Prefect's engine reports a raised result on.

    Under a worker (or ``prefect flow-run execute``) the engine re-raises a failed run's
    result and logs it with its traceback; the run's state and its "Finished in state
    Failed(<message>)" line already say everything.
    """
    for name in ("prefect.flow_runs", "prefect.engine"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _QuietRunEnded) for f in logger.filters):
            logger.addFilter(_QuietRunEnded())


_quiet_run_ended()


def end(result: FlowResult, *, name: str | None = None, cancelled: bool = False) -> State[Any]:
    """The flow run's final state carrying ``result``: Completed when ``ok``, else Failed.

    ``name`` names a legitimate special ending (``NothingToSync``, ``AlreadyCutOver``);
    ``cancelled`` is for an operator's no (``Declined``). A Failed or Cancelled state carries
    the result in a :class:`RunEnded` (read it with :func:`result_of`).
    """
    if cancelled:
        return Cancelled(name=name or "Cancelled", message=result.message, data=RunEnded(result))
    if result.ok:
        return Completed(name=name or "Completed", message=result.message, data=result)
    return Failed(name=name or "Failed", message=result.message, data=RunEnded(result))
