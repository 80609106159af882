"""``onboard provision SPEC``: create the customer, domains, routing, mailboxes and aliases.

Runs the ``provision`` flow in this process (quietly, see :mod:`cli.prefect_runtime`) and
prints what each object ended as. Exit code 0 when everything exists as the spec says and
every account logs in, 1 when an account failed or something conflicts (the report says what
to do), 2 when the input or the API key is unusable (one sentence, nothing changed).
"""

from __future__ import annotations

from typing import Any

from cli.output import (
    EXIT_UNUSABLE,
    Format,
    FormatOption,
    SpecArgument,
    fail,
    finish,
    load_spec_or_exit,
)

__all__ = ["provision"]


def provision(
    spec: SpecArgument,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Create the customer's control-panel objects and mailboxes (only what is missing)."""
    from cli.prefect_runtime import run_flow_report
    from onboarding import OnboardingError
    from validation.users import validate_user_list

    try:
        report = validate_user_list(load_spec_or_exit(spec, output_format))
    except OnboardingError as exc:
        fail(str(exc), EXIT_UNUSABLE)
    if not report.valid:
        fail(
            f"{report.path}: {len(report.problems)} problem(s) in the user list; run "
            "`onboard validate` and fix them first",
            EXIT_UNUSABLE,
        )

    def start() -> Any:
        from flows.provision import provision as provision_flow

        return provision_flow(spec_path=spec.resolve(), return_state=True)

    state, data = run_flow_report(start)
    if "stopped" in data:
        fail(str(data["stopped"]), EXIT_UNUSABLE)
    finish(state, data, output_format, _print)


def _print(data: dict[str, Any], message: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="control panel")
    for col in ("kind", "name", "result", "detail / action"):
        table.add_column(col)
    for o in data["setup"]:
        table.add_row(
            o["kind"], o["name"], o["result"], " ".join(filter(None, (o["detail"], o["action"])))
        )
    console.print(table)
    accounts = data.get("accounts")
    if accounts:
        console.print(
            f"accounts: {accounts['total']} in the list; {accounts['created']} created, "
            f"{accounts['already existed']} already existed, {accounts['failed']} failed; "
            f"IMAP logins proven {accounts['logins_ok']}, failed {accounts['logins_failed']}"
        )
        for f in data.get("failed", [])[:20]:
            console.print(f"  failed {f['email']}: {f['reason']}")
    aliases = data.get("aliases")
    if aliases:
        console.print(
            f"aliases: {aliases['total']} in the list; {aliases['created']} created, "
            f"{aliases['already existed']} already existed, {aliases['conflict']} conflict, "
            f"{aliases['failed']} failed"
        )
        for p in data.get("alias_problems", [])[:20]:
            todo = f"; {p['action']}" if p["action"] else ""
            console.print(f"  {p['result']} {p['alias']}: {p['reason']}{todo}")
    console.print(message)
    console.print(f"reports: {data['run_folder']}")
