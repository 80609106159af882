"""``onboard migrate SPEC --pass initial|incremental|final``: copy the old mailboxes over.

Runs the ``migrate`` flow in this process with a live display (mailboxes done/total,
messages, bytes, ETA) on stderr, then prints the per-mailbox summary and the reconciliation
equation. ``--dry-run`` runs the flow's dry run: it prints the plan (folder map, counts,
sizes, skips and why) and writes nothing. Exit code 0 when everything synced, 1 when a mailbox or
message failed (the failed-transfers report says which and why), 2 when the input is unusable.
"""

from __future__ import annotations

import threading
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

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

from cli.output import Format, FormatOption, Output, SpecArgument, plain, safe

if TYPE_CHECKING:
    from flows.results import MailboxPlanRow, MigrateResult, MigrationPlanResult

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
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            formats=["%Y-%m-%d"],
            help="Only mail dated on or after this day (YYYY-MM-DD): pre-stage the newest "
            "mail first; a later pass without it copies the rest. Not for --pass final.",
        ),
    ] = None,
    before: Annotated[
        datetime | None,
        typer.Option("--before", formats=["%Y-%m-%d"], help="Only mail dated before this day."),
    ] = None,
    approve_failed: Annotated[
        bool,
        typer.Option(
            "--approve-failed",
            help="First approve the failed or skipped items the customer's latest "
            "failed-transfers table lists (for the selected users): this and later passes "
            "and the cutover go past them and stop only on new ones.",
        ),
    ] = False,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Copy every user's old mailbox into their hosted mailbox (only what is missing)."""
    from cli.prefect_runtime import run_flow
    from flows.results import MigrateResult, MigrationPlanResult

    out = Output(output_format)
    out.load_spec(spec)
    wanted = [u for u in users.split(",") if u.strip()] if users is not None else None
    since_day = since.date() if since else None
    before_day = before.date() if before else None
    if since_day and before_day and since_day >= before_day:
        out.fail(f"--since {since_day} must be a day before --before {before_day}")
    if pass_kind is PassChoice.FINAL and (since_day or before_day):
        out.fail("--since/--before do not apply to --pass final, which copies everything")
    window = {"since": since_day, "before": before_day, "approve_failed": approve_failed}
    if dry_run:

        def plan() -> Any:
            from flows.migrate import migrate as migrate_flow

            return migrate_flow(
                spec_path=spec.resolve(),
                pass_kind=pass_kind.value,
                users=wanted,
                dry_run=True,
                return_state=True,
            )

        out.finish(run_flow(plan, out, MigrationPlanResult), _print_plan)
    display = _Display(Console(stderr=True)) if not out.json else None

    def start() -> Any:
        from flows.migrate import migrate as migrate_flow
        from flows.migrate import watch_progress

        if display is None:
            return migrate_flow(
                spec_path=spec.resolve(),
                pass_kind=pass_kind.value,
                users=wanted,
                return_state=True,
                **window,
            )
        display.progress.start()
        try:
            with watch_progress(display):
                return migrate_flow(
                    spec_path=spec.resolve(),
                    pass_kind=pass_kind.value,
                    users=wanted,
                    return_state=True,
                    **window,
                )
        finally:
            display.progress.stop()

    out.finish(run_flow(start, out, MigrateResult), _print_summary)


def _print_plan(result: MigrationPlanResult) -> None:
    for p in result.mailboxes:
        typer.echo(plain("\n".join(_plan_lines(p))))
    typer.echo(plain(result.message))


def _plan_lines(plan: MailboxPlanRow) -> list[str]:
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
    """A rich progress display fed by the engine's progress events from the task threads."""

    def __init__(self, console: Console) -> None:
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
        self.mailboxes = self.progress.add_task("mailboxes", total=None, extra="")
        self.messages = self.progress.add_task("messages", total=None, extra="")
        self.bytes: TaskID = self.progress.add_task("MB", total=None, extra="")

    def __call__(self, event: object) -> None:
        from flows.migrate import SlotWait
        from onboarding.mailsync import SyncProgress
        from onboarding.mailsync.progress import MailboxDone, PassStarted

        with self._lock:
            if isinstance(event, SlotWait):
                self.progress.console.print(
                    f"[yellow]{safe(event.mailbox)}[/yellow]: {safe(event.message)}"
                )
                return
            if isinstance(event, PassStarted):
                self.progress.update(self.mailboxes, total=event.mailboxes)
                return
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
                    self.progress.console.print(
                        f"[red]failed[/red] {safe(event.mailbox)}: {safe(event.error)}"
                    )
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


def _print_summary(result: MigrateResult) -> None:
    console = Console(highlight=False)
    table = Table(title=f"migration, {result.pass_kind} pass")
    cols = ("mailbox", "status", "in_scope", "copied", "already_present", "skipped", "failed")
    for col in (*cols, "MB"):
        table.add_column(col, overflow="fold")
    for m in result.mailboxes:
        table.add_row(*(safe(str(getattr(m, c))) for c in cols), f"{m.bytes_copied / 1e6:,.1f}")
    console.print(table)
    console.print(safe(result.equation))
    for m in result.mailboxes:
        if m.gmail:  # what became of All Mail, Starred and Important (docs/gmail.md)
            console.print(safe(f"{m.mailbox}: {m.gmail}"))
    problems = len(result.failed_transfers)
    if problems:
        new = sum(1 for t in result.failed_transfers if t.approval == "new")
        console.print(
            f"{problems} failed or skipped item(s), {new} new: see "
            f"{safe(result.failed_transfers_table)}"
        )
    if not result.ok:
        console.print(safe(result.message.split("; table ")[0]))
    console.print(f"reports: {safe(str(result.run_folder))}")
