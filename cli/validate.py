"""``onboard validate SPEC [--users CSV] [--format json]``: check the customer's user CSV.

Runs the ``validate-users`` flow in this process (see :mod:`cli.prefect_runtime`) and prints
every bad row with the reason and the fix. Exit codes: 0 every row is valid, 1 rows have
problems (the report is printed), 2 the spec or the CSV cannot be used at all (one sentence on
stderr, no traceback). The spec and the file are checked before Prefect starts, so an unusable
file is reported at once. ``--format json`` prints exactly::

    {"valid": false, "rows": 22, "errors": [{"row": 5, "column": "email", "problem": "..."}]}
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from cli.output import Format, FormatOption, Output, SpecArgument, print_json, safe, warn_spec
from onboarding import OnboardingError

if TYPE_CHECKING:
    from validation.users import UserListReport

__all__ = ["TERMINAL_ROWS", "validate"]

TERMINAL_ROWS = 100  # more than this and the run folder's CSV is the better place to read


def validate(
    spec: SpecArgument,
    users: Annotated[
        Path | None,
        typer.Option("--users", help="Check this CSV instead of the spec's users_csv."),
    ] = None,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Check the user list: every bad row, the reason and the fix, in one run.

    Exit codes: 0 every row is valid; 1 rows have problems (the report is printed);
    2 the spec or the CSV cannot be used at all.
    """
    from validation.csv_reader import read_user_table, user_csv_path
    from validation.spec import load_spec

    out = Output(output_format)
    try:
        loaded = load_spec(spec)
        warn_spec(loaded)
        read_user_table(user_csv_path(loaded, users))  # fail fast, before Prefect is imported
    except OnboardingError as exc:
        _unusable(exc, out)

    from cli.prefect_runtime import run_flow
    from flows.results import UserValidationResult

    def start() -> Any:
        from flows.validate_users import validate_users

        return validate_users(spec, users, return_state=True)

    # A file that turns unusable between the check above and the run fails inside the flow;
    # its sentence is the exit-2 error (the JSON shape is for a readable file).
    result = run_flow(start, Output(), UserValidationResult)
    out.finish(result, lambda r: _print_report(r.report))


def _unusable(exc: OnboardingError, out: Output) -> NoReturn:
    """Exit 2: with --format json the usual shape first, its one error the file's problem."""
    if out.json:
        line = getattr(exc, "line", None) or 0
        print_json(
            {
                "ok": False,
                "valid": False,
                "rows": 0,
                "errors": [{"row": line, "column": "", "problem": str(exc)}],
            }
        )
    Output().fail(str(exc))


def _print_report(report: UserListReport) -> None:
    from validation.user_report import summary_line

    console = Console()
    verdict = "[green]valid[/green]" if report.valid else "[red]has problems[/red]"
    console.print(f"{safe(report.path)}: {verdict}: {safe(summary_line(report))}", highlight=False)
    if report.problems:
        table = Table("row", "column", "value", "problem", "fix", show_lines=False)
        for p in report.problems[:TERMINAL_ROWS]:
            table.add_row(str(p.row), safe(p.column), safe(p.value), safe(p.problem), safe(p.fix))
        console.print(table)
        if len(report.problems) > TERMINAL_ROWS:
            console.print(f"... {len(report.problems) - TERMINAL_ROWS} more problem(s).")
    for w in report.warnings[:TERMINAL_ROWS]:
        console.print(
            f"[yellow]warning[/yellow]: row {w.row}, {safe(w.column)} {safe(w.value)}: "
            f"{safe(w.problem)}; {safe(w.fix)}",
            highlight=False,
        )
    if report.run_folder:
        console.print(f"Report files: {safe(report.run_folder)}", highlight=False)
