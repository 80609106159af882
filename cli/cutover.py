"""``onboard cutover SPEC``: cut the customer's inbound mail over to the hosted mailboxes.

Runs the ``cutover`` flow here (quietly, see :mod:`cli.prefect_runtime`). It refuses, changing
nothing, until DNS has propagated and ttl_multiple × MX TTL has passed; the output gives the
ETA (``--wait SECONDS`` keeps checking that long first). When the spec requires approval,
``--yes`` gives it; otherwise the question is asked on the terminal when the run gets there.

Exit code 0 when cut over (or already cut over) and mail flows, 1 when not ready, declined or
a step failed (the output says what is safe to do), 2 when the input or Prefect is unusable.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.output import (
    Format,
    FormatOption,
    SpecArgument,
    finish,
    load_spec_or_exit,
)

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
    from cli.run import run_flow_with_prompts

    interactive = load_spec_or_exit(spec, output_format).cutover.require_approval and not yes

    def start() -> Any:
        from flows.cutover import cutover as cutover_flow

        return cutover_flow(
            spec_path=spec.resolve(), approved=yes, wait_seconds=wait, return_state=True
        )

    report = run_flow_with_prompts(
        start,
        interactive=interactive,
        refusal="the spec requires approval for the cutover: pass --yes, or run the "
        "cutover/default deployment and approve it in the Prefect UI",
    )
    finish(*report, output_format, _print)


def _print(data: dict[str, Any], _message: str) -> None:
    typer.echo(f"cutover: {data['outcome']}: {data['message']}")
    readiness = data.get("readiness")
    if readiness and not readiness["ready"]:
        for d in readiness["domains"]:
            typer.echo(f"  {d['domain']}: {d['reason']}")
    for s in data["steps"]:
        typer.echo(f"  {s['domain']:<30} {s['step']:<15} {s['detail']}")
    if data.get("final_sync"):
        typer.echo(f"  final sync: {data['final_sync']}")
    for p in data["held_mail_probes"] + data["mail_flow_probes"]:
        result = (
            f"delivered in {p['seconds']} s" if p["delivered"] else f"NOT delivered: {p['error']}"
        )
        typer.echo(f"  mail to {p['domain']}: {result}")
    followup = data.get("followup")
    if followup:
        typer.echo(
            f"follow-up verification due {followup['due_at']}: "
            + (followup["scheduled_flow_run_id"] or followup["how_to_run"])
        )
    typer.echo(f"reports: {data['run_folder']}")
