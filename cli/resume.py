"""``onboard resume RUN approve|decline``: answer a paused run's question from the command line.

The same answer as the run's Resume form in the Prefect UI (``cutover-approval``: cut over
now?; ``failed-items-approval``: accept the listed items?; ``dns-changed``: has the customer
published the records?), for a run paused on the Prefect API this command reports to (the
team server, or the lab's long-lived one). ``RUN`` is the flow run's id or its name. The
choice is explicit: there is no default, so nothing is declined by accident.

Exit codes: 0 the run was resumed with the answer; 2 no such run, or it is not paused.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import typer

from cli.output import Format, FormatOption, Output, plain, print_json

__all__ = ["resume"]


class Answer(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"


def _find(client: Any, run: str) -> Any:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_flow_run(UUID(run))
    except ValueError:
        found = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[run])), limit=2
        )
        return found[0] if len(found) == 1 else None
    except ObjectNotFound:
        return None


def resume(
    run: Annotated[str, typer.Argument(help="The paused flow run: its id or its name.")],
    answer: Annotated[Answer, typer.Argument(help="approve or decline (no default).")],
    notes: Annotated[str, typer.Option("--notes", help="Why; kept with the run.")] = "",
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Resume a paused run (cutover approval, failed items, DNS changed) with an answer."""
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    from cli.prefect_runtime import PrefectUnavailableError, prefect_runtime
    from cli.run import pause_question

    out = Output(output_format)
    try:
        with prefect_runtime() as api, get_client(sync_client=True) as client:
            flow_run = _find(client, run)
            if flow_run is None:
                out.fail(f"no flow run {run!r} on the Prefect API at {api}")
            state = flow_run.state
            if state is None or not state.is_paused():
                name = state.name if state else "no state"
                out.fail(f"flow run {flow_run.name} ({flow_run.id}) is {name}, not paused")
            key = state.state_details.pause_key or ""
            question, (yes, no) = pause_question(key)
            decision = yes if answer is Answer.APPROVE else no
            note = notes or f"{answer.value}d with onboard resume"
            resume_flow_run(flow_run.id, run_input={"decision": decision, "notes": note})
    except PrefectUnavailableError as exc:
        out.fail(str(exc))
    data = {
        "ok": True,
        "flow_run_id": str(flow_run.id),
        "flow_run": flow_run.name,
        "question": question,
        "answer": answer.value,
        "message": f"resumed {flow_run.name} with {answer.value}",
    }
    if out.json:
        print_json(data)
    else:
        typer.echo(plain(f"{flow_run.name}: {question} -> {answer.value}"))
        typer.echo(plain(data["message"]))
