"""``onboard verify SPEC``: post-cutover verification (logins, mail flow, DNS checks).

Runs the ``verify`` flow here and lists the open issues. Exit code 0 when there are none, 1
when there are (each names the account or domain and the fix), 2 when the input or Prefect is
unusable. ``--follow-up`` labels the run as the 48-hour re-check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import Format, FormatOption, Output, SpecArgument, plain
from cli.spec_flow import run_spec_flow

if TYPE_CHECKING:
    from flows.results import VerifyResult

__all__ = ["verify"]


def verify(
    spec: SpecArgument,
    followup: Annotated[
        bool, typer.Option("--follow-up", help="This is the re-check after the cutover.")
    ] = False,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Check every account logs in, mail reaches every domain, and the DNS records work."""
    from flows.results import VerifyResult

    out = Output(output_format)
    out.finish(
        run_spec_flow(spec, out, VerifyResult, "flows.verify:verify", followup=followup), _print
    )


def _print(result: VerifyResult) -> None:
    typer.echo(plain(result.summary))
    for issue in result.open_issues:
        typer.echo(plain(f"  {issue.area:<12} {issue.subject:<30} {issue.problem}"))
        if issue.fix:
            typer.echo(plain(f"  {'':<12} {'':<30} fix: {issue.fix}"))
    typer.echo(plain(f"reports: {result.run_folder}"))
    if result.customer_report:
        typer.echo(plain(f"customer's report: {result.customer_report} (and .html, .pdf)"))
