"""``onboard provision SPEC``: create the customer, domains, routing, mailboxes and aliases.

Runs the ``provision`` flow in this process (quietly, see :mod:`cli.prefect_runtime`) and
prints what each object ended as. Exit code 0 when everything exists as the spec says and
every account logs in, 1 when an account failed or something conflicts (the report says what
to do), 2 when the input or the API key is unusable (one sentence, nothing changed).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cli.output import Format, FormatOption, Output, SpecArgument, safe
from cli.spec_flow import run_spec_flow

if TYPE_CHECKING:
    from rich.console import Console

    from flows.results import AliasProblem, ProvisionResult

__all__ = ["provision"]

# A long list of failures belongs in the report; the terminal shows the first ones.
_SHOWN = 20


def provision(
    spec: SpecArgument,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Create the customer's control-panel objects and mailboxes (only what is missing)."""
    from flows.results import ProvisionResult

    out = Output(output_format)
    result = run_spec_flow(spec, out, ProvisionResult, "flows.provision:provision")
    if result.stopped:
        out.fail(result.stopped)
    out.finish(result, _print)


def _print(result: ProvisionResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(title="control panel")
    for col in ("kind", "name", "result", "detail / action"):
        table.add_column(col)
    for o in result.setup:
        detail = " ".join(filter(None, (o.detail, o.action)))
        table.add_row(safe(o.kind), safe(o.name), safe(o.result), safe(detail))
    console.print(table)
    accounts = result.accounts
    if accounts:
        _print_tally(
            console,
            f"accounts: {accounts.total} in the list; {accounts.created} created, "
            f"{accounts.already_existed} already existed, {accounts.failed} failed; "
            f"IMAP logins proven {accounts.logins_ok}, failed {accounts.logins_failed}",
            (f"failed {safe(f.email)}: {safe(f.reason)}" for f in result.failed),
        )
    aliases = result.aliases
    if aliases:
        _print_tally(
            console,
            f"aliases: {aliases.total} in the list; {aliases.created} created, "
            f"{aliases.already_existed} already existed, {aliases.conflict} conflict, "
            f"{aliases.failed} failed",
            (_alias_problem(p) for p in result.alias_problems),
        )
    console.print(safe(result.message))
    console.print(f"reports: {safe(str(result.run_folder))}")


def _print_tally(console: Console, tally: str, problems: Iterable[str]) -> None:
    """Print ``tally`` and under it the first ``_SHOWN`` problems; the report has them all."""
    console.print(tally)
    for line in itertools.islice(problems, _SHOWN):
        console.print(f"  {line}")


def _alias_problem(p: AliasProblem) -> str:
    todo = f"; {p.action}" if p.action else ""
    return f"{safe(p.result)} {safe(p.alias)}: {safe(p.reason + todo)}"
