"""``onboard run SPEC``: the whole runbook in one command (the ``onboard`` flow).

Where the runbook needs a person, the flow pauses (the customer changed DNS; the cutover is
approved). ``--yes`` answers both up front. Without it, on a terminal, this command asks the
question here (naming the customer) and resumes the paused run with the answer (the same
Resume the Prefect UI offers); it answers only the runs it started itself (they carry its
own tag), never another run paused on a shared server. Without a terminal it refuses to
start, because nobody could answer; ``onboard resume RUN approve|decline`` answers a paused
run from any shell.

Exit code 0 when every phase completed, 1 when a phase stopped the run (the output names it),
2 when the spec or the Prefect API is unusable.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import uuid4

import typer

from cli.output import Format, FormatOption, Output, SpecArgument, plain
from cli.spec_flow import flow_call

if TYPE_CHECKING:
    from flows.results import FlowResult, OnboardResult
    from validation.spec import OnboardingSpec

R = TypeVar("R", bound="FlowResult")

__all__ = [
    "answer_pauses",
    "in_thread",
    "pause_question",
    "run",
    "run_spec_flow_with_prompts",
    "runs_tag",
]

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


def pause_question(key: str) -> tuple[str, tuple[str, str]]:
    """The question a pause with ``key`` asks, and its Resume form's two ``decision`` values
    (yes, no): the forms have no default, so the answer always names one."""
    return next(
        (q for k, q in _QUESTIONS.items() if key.startswith(k) or k in key),
        ("Continue?", ("approve", "decline")),
    )


def in_thread(target: Callable[..., Any], *args: Any) -> threading.Thread:
    """A started daemon thread running ``target(*args)`` in a copy of this thread's context:
    Prefect's settings (which API) live in a context variable a new thread does not inherit,
    and without them the thread would talk to a temporary server of its own."""
    thread = threading.Thread(target=contextvars.copy_context().run, args=(target, *args))
    thread.daemon = True
    thread.start()
    return thread


def runs_tag() -> str:
    """A tag naming one command's runs (its flow runs and their subflow runs carry it), so
    it answers only the pauses of runs it started itself, also on a shared server."""
    return f"onboard-cli-{uuid4().hex[:12]}"


def answer_pauses(
    tag: str, customer: str, done: threading.Event, ask: Callable[[str], bool]
) -> None:
    """Until ``done``: resume every paused flow run tagged ``tag`` with the operator's answer
    to its question, which names ``customer``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.flow_runs import resume_flow_run

    answered: set[str] = set()
    while not done.wait(1.0):
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
                    tags=FlowRunFilterTags(all_=[tag]),
                )
            )
        for run in runs:
            key = (run.state.state_details.pause_key if run.state else None) or ""
            if f"{run.id}:{key}" in answered:
                continue
            question, (yes, no) = pause_question(key)
            answered.add(f"{run.id}:{key}")
            decision = yes if ask(f"{customer}: {question}") else no
            notes = "answered on the command line"
            resume_flow_run(run.id, run_input={"decision": decision, "notes": notes})


def run_spec_flow_with_prompts(
    spec: Path,
    out: Output,
    result_type: type[R],
    flow: str,
    *,
    interactive: Callable[[OnboardingSpec], bool],
    refusal: str,
    **parameters: Any,
) -> R:
    """:func:`cli.spec_flow.run_spec_flow` for a flow that pauses for a person: when
    ``interactive(customer)`` its pauses (only those of the runs it started) are answered on
    the terminal, each question naming the customer, and without a terminal the
    command exits 2 with ``refusal`` (how to answer instead) before anything runs."""
    from cli.prefect_runtime import run_flow

    customer = out.load_spec(spec)
    asks = interactive(customer)
    if asks and not sys.stdin.isatty():
        out.fail(refusal)
    call = flow_call(spec, flow, **parameters)
    return run_flow(
        lambda: _with_prompts(call, interactive=asks, customer=customer.customer),
        out,
        result_type,
    )


def _with_prompts(call: Callable[[], Any], *, interactive: bool, customer: str) -> Any:
    if not interactive:
        return call()
    from prefect import tags

    done = threading.Event()
    tag = runs_tag()
    result: list[Any] = []

    def tagged() -> None:
        with tags(tag):
            result.append(call())

    worker = in_thread(tagged)
    asker = in_thread(answer_pauses, tag, customer, done, lambda q: typer.confirm(q, default=False))
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
    result = run_spec_flow_with_prompts(
        spec,
        out,
        OnboardResult,
        "flows.onboard:onboard",
        interactive=lambda _customer: not yes,
        refusal="onboard run stops for the operator (DNS changed? approve the cutover?); pass "
        "--yes to answer both now, or run the onboard/whole-runbook deployment and answer in "
        "the UI",
        approved=yes,
        dns_wait_seconds=dns_wait,
    )
    out.finish(result, _print)


def _print(result: OnboardResult) -> None:
    for row in result.phases:
        typer.echo(plain(f"{row.phase:<16} {row.state:<12} {row.message}"))
    typer.echo(plain(result.message))
