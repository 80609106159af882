"""``onboard client-guides SPEC``: the email-client guides, user sheets and files to publish.

Runs the ``client-guides`` flow here and prints where the files are. Exit 0 when written, 2
when the input or Prefect is unusable. No file contains a password.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from cli.output import Format, FormatOption, Output, SpecArgument
from cli.spec_flow import run_spec_flow

if TYPE_CHECKING:
    from flows.results import ClientGuidesResult

__all__ = ["client_guides"]


def client_guides(spec: SpecArgument, output_format: FormatOption = Format.TEXT) -> None:
    """Write the set-up guide, one sheet per user, and the autoconfig files to publish."""
    from flows.results import ClientGuidesResult

    out = Output(output_format)
    result = run_spec_flow(spec, out, ClientGuidesResult, "flows.client_guides:client_guides")
    out.finish(result, _print)


def _print(result: ClientGuidesResult) -> None:
    typer.echo(result.message)
    typer.echo(f"guide: {result.run_folder}/guide.html (and .md, .pdf)")
    typer.echo(f"user sheets: {result.run_folder}/users/")
    typer.echo("publish on the autoconfig/autodiscover hosts:")
    for path in result.publish:
        typer.echo(f"  {path}")
