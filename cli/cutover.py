"""``onboard cutover SPEC``: cut the customer's inbound mail over to the hosted mailboxes.

Runs the ``cutover`` flow here (quietly, see :mod:`cli.prefect_runtime`). It refuses, changing
nothing, until DNS has propagated and ttl_multiple × MX TTL has passed; the output gives the
ETA (``--wait SECONDS`` keeps checking that long first). When the spec requires approval,
``--yes`` gives it; otherwise the question is asked on the terminal when the run gets there.

Exit code 0 when cut over (or already cut over) and mail flows, 1 when not ready, declined or
a step failed (the output says what is safe to do), 2 when the input or Prefect is unusable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import Format, FormatOption, Output, SpecArgument, plain

if TYPE_CHECKING:
    from flows.results import CutoverResult

__all__ = ["cutover"]


def cutover(
    spec: SpecArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Approve the cutover now.")] = False,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to keep checking DNS readiness first.")
    ] = 0.0,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Hold, final sync, switch routing, release, probe: once DNS allows it."""
    from cli.run import run_spec_flow_with_prompts
    from flows.results import CutoverResult

    out = Output(output_format)
    result = run_spec_flow_with_prompts(
        spec,
        out,
        CutoverResult,
        "flows.cutover:cutover",
        interactive=lambda customer: customer.cutover.require_approval and not yes,
        refusal="the spec requires approval for the cutover: pass --yes, or run the "
        "cutover/cut-over deployment and approve it in the Prefect UI",
        approved=yes,
        wait_seconds=wait,
    )
    out.finish(result, _print)


def _print(result: CutoverResult) -> None:
    typer.echo(plain(f"cutover: {result.outcome}: {result.message}"))
    readiness = result.readiness
    if readiness and not readiness.ready:
        for d in readiness.domains:
            typer.echo(plain(f"  {d.domain}: {d.reason}"))
    for s in result.steps:
        typer.echo(plain(f"  {s.domain:<30} {s.step:<15} {s.detail}"))
    if result.final_sync:
        typer.echo(plain(f"  final sync: {result.final_sync}"))
    for p in result.held_mail_probes + result.mail_flow_probes:
        outcome = f"delivered in {p.seconds} s" if p.delivered else f"NOT delivered: {p.error}"
        typer.echo(plain(f"  mail to {p.domain}: {outcome}"))
    for c in result.catchup_passes:
        typer.echo(
            plain(f"catch-up pass due {c.due_at}: " + (c.scheduled_flow_run_id or c.how_to_run))
        )
    followup = result.followup
    if followup:
        typer.echo(
            plain(
                f"follow-up verification due {followup.due_at}: "
                + (followup.scheduled_flow_run_id or followup.how_to_run)
            )
        )
    typer.echo(plain(f"reports: {result.run_folder}"))
