"""``onboard run SPEC``: the whole runbook in one command (the ``onboard`` flow).

Where the runbook needs a person, the flow pauses (the customer changed DNS; the cutover is
approved). ``--yes`` answers both up front. Without it, on a terminal, this command asks the
question here and resumes the paused run with the answer (the same Resume the Prefect UI
offers); without a terminal it refuses to start, because nobody could answer.

Exit code 0 when every phase completed, 1 when a phase stopped the run (the output names it),
2 when the spec or the Prefect API is unusable.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cli.output import Format, FormatOption, Output, SpecArgument, plain

if TYPE_CHECKING:
    from flows.results import FlowResult, OnboardResult

R = TypeVar("R", bound="FlowResult")

__all__ = ["answer_pauses", "run", "run_flow_with_prompts"]

_QUESTIONS = {
    "dns-changed": (
        "The customer has the DNS records (dns-records artifact / run folder). Have they "
        "published them?",
        ("published", "not-yet"),
    ),
    "failed-items-approval": (
        "The latest migration left failed or skipped items (listed in the failed-transfers "
        "table). Approve them, so the cutover goes past them?",
        ("approve", "decline"),
    ),
    "cutover-approval": (
        "DNS is ready. Cut over now (hold, final sync, switch routing, release)?",
        ("approve", "decline"),
    ),
}


def answer_pauses(started: datetime, done: threading.Event, ask: Callable[[str], bool]) -> None:
    """Until ``done``: resume every flow run paused since ``started`` with the operator's answer."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    answered: set[str] = set()
    while not done.wait(1.0):
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
                    start_time=FlowRunFilterStartTime(after_=started),
                )
            )
        for run in runs:
            key = (run.state.state_details.pause_key if run.state else None) or ""
            if str(run.id) in answered:
                continue
            question, (yes, no) = next(
                (q for k, q in _QUESTIONS.items() if key.startswith(k) or k in key),
                ("Continue?", ("approve", "decline")),
            )
            answered.add(str(run.id))
            decision = yes if ask(question) else no
            notes = "answered on the command line"
            resume_flow_run(run.id, run_input={"decision": decision, "notes": notes})


def run_flow_with_prompts(
    call: Callable[[], Any],
    out: Output,
    result_type: type[R],
    *,
    interactive: bool,
    refusal: str,
) -> R:
    """:func:`cli.prefect_runtime.run_flow` for a flow that pauses for a person: when
    ``interactive`` its pauses are answered on the terminal, and without a terminal the
    command exits 2 with ``refusal`` (how to answer instead) before anything runs."""
    from cli.prefect_runtime import run_flow

    if interactive and not sys.stdin.isatty():
        out.fail(refusal)
    return run_flow(lambda: _with_prompts(call, interactive=interactive), out, result_type)


def _with_prompts(call: Callable[[], Any], *, interactive: bool) -> Any:
    if not interactive:
        return call()
    done = threading.Event()
    started = datetime.now(UTC)
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    asker = threading.Thread(
        target=answer_pauses,
        args=(started, done, lambda q: typer.confirm(q, default=False)),
        daemon=True,
    )
    asker.start()
    while worker.is_alive():
        worker.join(0.5)
    done.set()
    asker.join(5)
    return result[0]


def run(
    spec: SpecArgument,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm the DNS change and approve the cutover now.")
    ] = False,
    dns_wait: Annotated[
        float, typer.Option("--dns-wait", help="Seconds the cutover waits for DNS readiness.")
    ] = 900.0,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Onboard the customer: validate, provision, migrate, DNS plan, cutover, verify."""
    from flows.results import OnboardResult

    out = Output(output_format)
    out.load_spec(spec)

    def start() -> Any:
        from flows.onboard import onboard

        return onboard(
            spec_path=spec.resolve(), approved=yes, dns_wait_seconds=dns_wait, return_state=True
        )

    result = run_flow_with_prompts(
        start,
        out,
        OnboardResult,
        interactive=not yes,
        refusal="onboard run stops for the operator (DNS changed? approve the cutover?); pass "
        "--yes to answer both now, or run the onboard/whole-runbook deployment and answer in "
        "the UI",
    )
    out.finish(result, _print)


def _print(result: OnboardResult) -> None:
    for row in result.phases:
        typer.echo(plain(f"{row.phase:<16} {row.state:<12} {row.message}"))
    typer.echo(plain(result.message))
