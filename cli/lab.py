"""``onboard lab up | seed | status | env | down``: the local mail lab for the demo and tests.

The lab runs real servers on 127.0.0.1 under a state folder (default ``.lab/``): two
Dovecots (the customer's old server and the hosted mailboxes), the Postfix gateway, NSD +
Unbound, and the lab control panel. ``up`` and ``down`` are safe to repeat; ``down`` stops
exactly the processes the lab started. The default ports are the ones
``examples/acme/customer.yaml`` uses; ``--free-ports`` picks free ones (parallel labs).

``status --format json`` prints, for other programs::

    {"state_dir": ".../.lab", "healthy": true,
     "servers": {"source": {"host": "127.0.0.1", "ports": {"imap": 10143, "lmtp": 10024},
                            "pid": 4242, "healthy": true, "log": "..."}, ...},
     "source_master_user": "admin", "source_master_password": "...",
     "source_users": {"alice.adams@acme.test": "..."}, "destination_accounts": {...},
     "controlpanel_api_key": "lab-reseller:...", "env": {"ONBOARD_SECRET_...": "..."}}

Exit codes: 0 ok; 1 a server is not healthy; 2 the lab cannot be used (a server failed to
start: its name and the tail of its log are printed).
"""

from __future__ import annotations

import shlex
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.output import EXIT_INVALID, EXIT_OK, Format, fail, print_json

if TYPE_CHECKING:
    from lab import Lab, LabStatus

__all__ = ["app"]

app = typer.Typer(
    name="lab",
    help="Start, seed, inspect and stop the local mail lab (real servers on 127.0.0.1).",
    no_args_is_help=True,
)

StateDir = Annotated[
    Path,
    typer.Option("--state-dir", help="The lab's state folder.", envvar="ONBOARD_LAB_STATE_DIR"),
]
OutputFormat = Annotated[
    Format, typer.Option("--format", help="text for people, json for programs.")
]
DEFAULT_STATE = Path(".lab")


class Profile(StrEnum):
    SMALL = "small"
    BENCH = "bench"
    GMAIL = "gmail"


def _lab(state_dir: Path, *, free_ports: bool = False) -> Lab:
    from lab import Lab, LabError, LabPorts

    try:
        if free_ports and not (state_dir / "lab.json").exists():
            return Lab(state_dir, LabPorts.free())
        return Lab(state_dir)
    except LabError as exc:
        fail(str(exc))


def _show_status(status: LabStatus, output_format: Format) -> None:
    if output_format is Format.JSON:
        print_json(status.to_dict())
    else:
        table = Table(title=f"mail lab in {status.state_dir}")
        for column in ("server", "address", "pid", "health"):
            table.add_column(column)
        for s in status.servers:
            ports = ", ".join(f"{k} {v}" for k, v in s.ports.items())
            health = "[green]ok[/green]" if s.healthy else "[red]down[/red]"
            table.add_row(s.name, f"{s.host}: {ports}", str(s.pid or "-"), health)
        console = Console()
        console.print(table)
        console.print(
            f"source master login: <user>*{status.source_master_user} / "
            f"{status.source_master_password}"
        )
        console.print(
            f"source users: {len(status.source_users)}, "
            f"destination accounts: {len(status.destination_accounts)}"
        )
        if status.controlpanel_api_key:
            console.print(f"control panel API key: {status.controlpanel_api_key}")
    if not status.healthy:
        raise typer.Exit(EXIT_INVALID)


@app.command("up")
def up(
    state_dir: StateDir = DEFAULT_STATE,
    free_ports: Annotated[
        bool, typer.Option("--free-ports", help="Pick free ports instead of the defaults.")
    ] = False,
    output_format: OutputFormat = Format.TEXT,
) -> None:
    """Start every lab server that is not running (safe to repeat)."""
    from lab import LabError

    lab = _lab(state_dir, free_ports=free_ports)
    try:
        status = lab.up()
    except LabError as exc:
        fail(str(exc))
    _show_status(status, output_format)


@app.command("seed")
def seed(
    profile: Annotated[
        Profile,
        typer.Option(
            "--profile",
            help="small: seconds, for tests; bench: 40,000+; gmail: one Gmail-shaped mailbox.",
        ),
    ] = Profile.SMALL,
    users: Annotated[
        list[str] | None,
        typer.Option("--user", help="Seed this mailbox (repeat); default: the example users."),
    ] = None,
    state_dir: StateDir = DEFAULT_STATE,
    output_format: OutputFormat = Format.TEXT,
) -> None:
    """Replace the source mailboxes' mail with the deterministic corpus."""
    from lab import LabError

    lab = _lab(state_dir)
    if lab.source.pid is None:
        fail(f"the lab in {state_dir} is not running; start it with `onboard lab up`")
    try:
        report = lab.seed(profile.value, users=users or None)
    except (LabError, ValueError) as exc:
        fail(str(exc))
    if output_format is Format.JSON:
        print_json(report.to_dict())
    else:
        typer.echo(
            f"seeded {report.total} messages ({report.profile}) into "
            f"{len(report.counts)} source mailboxes"
        )
        for email, folders in report.counts.items():
            typer.echo(f"  {email}: {sum(folders.values())} messages in {len(folders)} folders")
    raise typer.Exit(EXIT_OK)


@app.command("status")
def status(state_dir: StateDir = DEFAULT_STATE, output_format: OutputFormat = Format.TEXT) -> None:
    """Each server's address, pid and health, and the lab's credentials."""
    if not (state_dir / "lab.json").exists():
        fail(f"no lab in {state_dir}; start one with `onboard lab up`")
    _show_status(_lab(state_dir).status(), output_format)


@app.command("env")
def env(state_dir: StateDir = DEFAULT_STATE) -> None:
    """Print `export ONBOARD_SECRET_...=...` lines for the lab's secrets (eval them)."""
    for name, value in sorted(_lab(state_dir).secret_env().items()):
        typer.echo(f"export {name}={shlex.quote(value)}")


@app.command("down")
def down(state_dir: StateDir = DEFAULT_STATE) -> None:
    """Stop exactly the processes the lab started (safe to repeat)."""
    if not (state_dir / "lab.json").exists():
        typer.echo(f"no lab in {state_dir}; nothing to stop")
        return
    _lab(state_dir).down()
    typer.echo("lab stopped")
