"""``onboard dns-plan SPEC`` and ``onboard dns-check SPEC [--propagation]``.

``dns-plan`` prints, per domain, the records to remove and to add, the MX TTL, the earliest
cutover time and any conflict; the same markdown is the ``dns-records-<customer>`` artifact and
the run folder's ``dns-records.md`` (with a zone-file snippet beside it). ``dns-check`` prints
each check with pass/warn/fail and the fix, or with ``--propagation`` the per-server view and
the ETA. Flows run in this process, quietly (see :mod:`cli.prefect_runtime`). Exit codes:
0 fine, 1 a check failed / not yet propagated, 2 unusable input or DNS unreadable (one
sentence on stderr). No output ever contains a DKIM private key.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import Format, FormatOption, Output, SpecArgument, plain
from cli.spec_flow import run_spec_flow

if TYPE_CHECKING:
    from flows.results import DNSCheckResult, DNSPlanResult, PropagationResult

__all__ = ["dns_check", "dns_plan"]


def dns_plan(spec: SpecArgument, output_format: FormatOption = Format.TEXT) -> None:
    """Print the DNS records the customer must remove and add, with the MX TTL."""
    from flows.results import DNSPlanResult

    out = Output(output_format)
    out.finish(run_spec_flow(spec, out, DNSPlanResult, "flows.dns_plan:dns_plan"), _print_plan)


def _print_plan(result: DNSPlanResult) -> None:
    folder = Path(str(result.run_folder))
    typer.echo(plain((folder / "dns-records.md").read_text(encoding="utf-8")))
    typer.echo(plain(f"Zone-file snippet: {folder / 'dns-records.zone'}"))


def dns_check(
    spec: SpecArgument,
    propagation: Annotated[
        bool,
        typer.Option("--propagation", help="Compare authoritative servers and resolvers."),
    ] = False,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Check the published records (MX, SPF, DKIM, DMARC) or their propagation."""
    from flows.results import DNSCheckResult, PropagationResult

    out = Output(output_format)
    result_type: type[DNSCheckResult | PropagationResult] = (
        PropagationResult if propagation else DNSCheckResult
    )
    result = run_spec_flow(
        spec, out, result_type, "flows.dns_check:dns_check", propagation=propagation
    )
    out.finish(result, _print_check)


def _print_check(result: DNSCheckResult | PropagationResult) -> None:
    folder = Path(str(result.run_folder))
    typer.echo(plain((folder / "dns-check.md").read_text(encoding="utf-8")))
    typer.echo(plain(result.message))
