"""``onboard migrate SPEC --pass initial|incremental|final``: copy the old mailboxes over.

Runs the ``migrate`` flow in this process with a live display (mailboxes done/total,
messages, bytes, ETA) on stderr, then prints the per-mailbox summary and the reconciliation
equation. ``--dry-run`` prints the plan (folder map, counts, sizes, skips and why) without
running a flow or writing anything. Exit code 0 when everything synced, 1 when a mailbox or
message failed (the failed-transfers report says which and why), 2 when the input is unusable.
"""

from __future__ import annotations

import dataclasses
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from cli.output import (
    EXIT_UNUSABLE,
    Format,
    FormatOption,
    SpecArgument,
    fail,
    finish,
    load_spec_or_exit,
    print_json,
)
from onboarding import OnboardingError
from onboarding.mailsync import SyncPlan, SyncProgress

__all__ = ["migrate"]


class PassChoice(StrEnum):
    """Which pass: the first bulk copy, a delta, or the final delta during the cutover."""

    INITIAL = "initial"
    INCREMENTAL = "incremental"
    FINAL = "final"


def migrate(
    spec: SpecArgument,
    pass_kind: Annotated[
        PassChoice, typer.Option("--pass", help="initial, incremental or final.")
    ] = PassChoice.INITIAL,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; connect read-only, write nothing.")
    ] = False,
    users: Annotated[
        str | None, typer.Option("--users", help="Only these mailboxes: a@x,b@y.")
    ] = None,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Copy every user's old mailbox into their hosted mailbox (only what is missing)."""
    from tasks.migrate import MigrationError, build_jobs, select_users, validated_users

    wanted = [u for u in users.split(",") if u.strip()] if users is not None else None
    loaded = load_spec_or_exit(spec, output_format)
    try:
        jobs = build_jobs(loaded, select_users(validated_users(loaded), wanted))
    except (OnboardingError, MigrationError) as exc:
        fail(str(exc), EXIT_UNUSABLE)
    if dry_run:
        _dry_run(spec, pass_kind.value, wanted, output_format)
        return
    _run(spec, pass_kind.value, wanted, len(jobs), output_format)


def _dry_run(spec: Path, pass_kind: str, wanted: list[str] | None, fmt: Format) -> None:
    from flows.migrate import plan_migration

    try:
        plans = plan_migration(spec, pass_kind, wanted)  # type: ignore[arg-type]
    except OnboardingError as exc:
        fail(str(exc), EXIT_UNUSABLE)
    if fmt is Format.JSON:
        print_json(
            {
                "dry_run": True,
                "pass": pass_kind,
                "mailboxes": [
                    {**dataclasses.asdict(p), "messages": p.messages, "bytes": p.bytes}
                    for p in plans
                ],
            }
        )
        return
    for p in plans:
        typer.echo("\n".join(_plan_lines(p)))
    total_msgs = sum(p.messages for p in plans)
    total_bytes = sum(p.bytes for p in plans)
    errors = sum(len(p.errors) for p in plans)
    typer.echo(
        f"dry run ({pass_kind} pass): {len(plans)} mailbox(es), {total_msgs:,} messages, "
        f"{total_bytes / 1e6:,.1f} MB would be considered; {errors} folder error(s); "
        "nothing was written"
    )


def _plan_lines(plan: SyncPlan) -> list[str]:
    """One line per source folder: action, source → destination, counts, why (never cut)."""
    lines = [f"{plan.mailbox}: {plan.messages:,} messages, {plan.bytes / 1e6:,.1f} MB"]
    for f in plan.folders:
        target = f" -> {f.destination_display}" if f.destination_display else ""
        too_big = f", {f.too_big} too big ({f.too_big_bytes / 1e6:,.1f} MB)" if f.too_big else ""
        notes = "; ".join((f.reason, *f.notes))
        lines.append(
            f"  {f.action:<8} {f.source_display}{target}: {f.messages:,} messages, "
            f"{f.bytes / 1e6:,.1f} MB{too_big} ({notes})"
        )
    return lines


class _Display:
    """A rich progress display fed by engine ticks from the task threads."""

    def __init__(self, mailboxes: int, console: Console) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, int, int, int]] = {}
        self.progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[extra]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.mailboxes = self.progress.add_task("mailboxes", total=mailboxes, extra="")
        self.messages = self.progress.add_task("messages", total=None, extra="")
        self.bytes: TaskID = self.progress.add_task("MB", total=None, extra="")

    def __call__(self, event: object) -> None:
        from tasks.migrate import MailboxDone

        with self._lock:
            if isinstance(event, SyncProgress):
                self._seen[event.mailbox] = (
                    event.messages_done,
                    event.messages_total,
                    event.bytes_done,
                    event.bytes_total,
                )
            elif isinstance(event, MailboxDone):
                done = self._seen.get(event.mailbox, (0, 0, 0, 0))
                self._seen[event.mailbox] = (done[1], done[1], done[3], done[3])
                self.progress.advance(self.mailboxes)
                if event.error:
                    self.progress.console.print(f"[red]failed[/red] {event.mailbox}: {event.error}")
            else:
                return
            msgs = sum(v[0] for v in self._seen.values())
            msgs_total = sum(v[1] for v in self._seen.values())
            got = sum(v[2] for v in self._seen.values())
            total = sum(v[3] for v in self._seen.values())
            self.progress.update(self.messages, completed=msgs, total=max(msgs_total, 1))
            self.progress.update(
                self.bytes,
                completed=got // 1_000_000,
                total=max(total // 1_000_000, 1),
                extra="",
            )


def _run(spec: Path, pass_kind: str, wanted: list[str] | None, mailboxes: int, fmt: Format) -> None:
    from cli.prefect_runtime import run_flow_report
    from tasks.migrate import BOARD

    display = _Display(mailboxes, Console(stderr=True)) if fmt is Format.TEXT else None

    def start() -> Any:
        from flows.migrate import migrate as migrate_flow

        if display is not None:
            BOARD.subscribe(display)
            display.progress.start()
        try:
            return migrate_flow(
                spec_path=spec.resolve(), pass_kind=pass_kind, users=wanted, return_state=True
            )
        finally:
            if display is not None:
                display.progress.stop()
                BOARD.unsubscribe(display)

    finish(*run_flow_report(start), fmt, _print_summary)


def _print_summary(data: dict[str, Any], _message: str) -> None:
    console = Console()
    table = Table(title=f"migration, {data['pass']} pass")
    cols = ("mailbox", "status", "in_scope", "copied", "already_present", "skipped", "failed")
    for col in (*cols, "MB"):
        table.add_column(col, overflow="fold")
    for m in data["mailboxes"]:
        table.add_row(*(str(m[c]) for c in cols), f"{int(m['bytes_copied']) / 1e6:,.1f}")
    console.print(table)
    console.print(data["equation"])
    problems = len(data["failed_transfers"])
    if problems:
        console.print(f"{problems} failed or skipped item(s): see failed-transfers.csv")
    console.print(f"reports: {data['run_folder']}")
