"""``onboard preflight SPEC [--users a@x,b@y]``: can every user be migrated, and how long?

Runs the ``preflight`` flow: both logins of every selected user at once (within the source
server's connection cap), folders, messages, size, the largest message against the
destination's limit, the free quota, and an estimated duration measured on the source.
Prints one line per user and the users that cannot be migrated. Exit code 0 when every user
is ready, 1 when any is not (all of them are listed), 2 when the input is unusable. Writes
nothing to the mail servers or the sync state; the report is the ``preflight-<slug>``
artifact and ``preflight.csv`` in the run folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.output import Format, FormatOption, Output, SpecArgument
from cli.spec_flow import run_spec_flow

if TYPE_CHECKING:
    from flows.results import PreflightResult

__all__ = ["preflight"]


def preflight(
    spec: SpecArgument,
    users: Annotated[
        str | None, typer.Option("--users", help="Only these mailboxes: a@x,b@y.")
    ] = None,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Check every user's old and new mailbox: logins, sizes, limits, estimated time."""
    from flows.results import PreflightResult

    out = Output(output_format)
    wanted = [u for u in users.split(",") if u.strip()] if users is not None else None
    result = run_spec_flow(spec, out, PreflightResult, "flows.preflight:preflight", users=wanted)
    out.finish(result, _print)


def _mb(value: int | None) -> str:
    return "" if value is None else f"{value / 1e6:,.1f}"


def _print(result: PreflightResult) -> None:
    console = Console(highlight=False)
    table = Table(title="preflight")
    for col in ("mailbox", "status", "messages", "MB", "largest MB", "fits", "ETA s", "fix"):
        table.add_column(col, overflow="fold")
    for u in result.users:
        fits = [
            "" if u.fits_quota is None else ("quota ok" if u.fits_quota else "OVER QUOTA"),
            "" if u.fits_message_limit is not False else f"{u.too_big} too big",
        ]
        table.add_row(
            escape(u.mailbox),
            escape(u.status + (f" ({u.failed_side})" if u.failed_side else "")),
            f"{u.messages:,}",
            _mb(u.bytes),
            _mb(u.largest_message),
            escape(", ".join(f for f in fits if f)),
            "" if u.eta_seconds is None else f"{u.eta_seconds:,.0f}",
            escape(u.fix or ""),
        )
    console.print(table)
    for u in result.users:
        if not u.ok:
            console.print(f"[red]{escape(u.mailbox)}[/red]: {escape(u.error or u.status)}")
    console.print(escape(result.message))
    console.print(f"reports: {escape(str(result.run_folder))}")
