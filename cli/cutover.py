"""``onboard cutover SPEC``: cut the customer's inbound mail over to the hosted mailboxes.

Runs the ``cutover`` flow here (quietly, see :mod:`cli.prefect_runtime`). It refuses, changing
nothing, until DNS has propagated and ttl_multiple × MX TTL has passed; the output gives the
ETA (``--wait SECONDS`` keeps checking that long first). When the spec requires approval,
``--yes`` gives it; otherwise the question is asked on the terminal when the run gets there.

Exit code 0 when cut over (or already cut over) and mail flows, 1 when not ready, declined or
a step failed (the output says what is safe to do), 2 when the input or Prefect is unusable.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.output import EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, Format, fail, print_json

__all__ = ["cutover"]


def cutover(
    spec: Annotated[Path, typer.Argument(help="The customer's YAML spec.")],
    yes: Annotated[bool, typer.Option("--yes", help="Approve the cutover now.")] = False,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to keep checking DNS readiness first.")
    ] = 0.0,
    output_format: Annotated[
        Format, typer.Option("--format", help="text for people, json for programs.")
    ] = Format.TEXT,
) -> None:
    """Hold, final sync, switch routing, release, probe: once DNS allows it."""
    from onboarding import OnboardingError
    from validation.spec import load_spec

    try:
        loaded = load_spec(spec)
    except OnboardingError as exc:
        fail(str(exc), EXIT_UNUSABLE)
    interactive = loaded.cutover.require_approval and not yes
    if interactive and not sys.stdin.isatty():
        fail(
            "the spec requires approval for the cutover: pass --yes, or run the cutover/default "
            "deployment and approve it in the Prefect UI",
            EXIT_UNUSABLE,
        )
    from cli.prefect_runtime import PrefectUnavailableError, prefect_runtime
    from cli.run import run_with_prompts

    try:
        with prefect_runtime():
            from flows.cutover import cutover as cutover_flow

            state = run_with_prompts(
                lambda: cutover_flow(
                    spec_path=spec.resolve(), approved=yes, wait_seconds=wait, return_state=True
                ),
                interactive=interactive,
            )
            data: Any = state.result(raise_on_failure=False)
    except PrefectUnavailableError as exc:
        fail(str(exc), EXIT_UNUSABLE)
    if not isinstance(data, dict):
        fail(str(data) if isinstance(data, BaseException) else (state.message or "failed"))
    if output_format is Format.JSON:
        print_json({"ok": state.is_completed(), **data})
    else:
        _print(data)
    raise typer.Exit(EXIT_OK if state.is_completed() else EXIT_INVALID)


def _print(data: dict[str, Any]) -> None:
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
