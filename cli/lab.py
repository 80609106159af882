"""``onboard lab up | seed | status | env | publish-dns | set-quota | down``: the local mail lab.

The lab runs real servers on 127.0.0.1 under a state folder (default ``.lab/``): two
Dovecots (the customer's old server and the hosted mailboxes), the Postfix gateway, NSD +
Unbound, the lab control panel, and (``up``, unless ``--no-prefect``) a long-lived Prefect
server that every ``onboard`` command then reports to. ``up`` and ``down`` are safe to
repeat; ``down`` stops exactly the processes the lab started. The default ports are the ones
``examples/acme/customer.yaml`` uses; ``--free-ports`` picks free ones (parallel labs).

``up`` also publishes the customer's DNS as it is before onboarding (``--customer``, default
the example), so ``onboard dns-plan`` works right after it; ``publish-dns SPEC`` plays the
customer publishing what the latest plan asked for, ``set-quota USER MB`` sets a hosted
mailbox's quota. Commands read the lab's secrets from its state while it runs (no
``eval "$(onboard lab env)"`` needed).

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

import json
import shlex
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.output import EXIT_INVALID, EXIT_OK, Format, Output, SpecArgument, fail, print_json

if TYPE_CHECKING:
    from lab import Lab, LabStatus
    from validation.spec import OnboardingSpec

__all__ = ["app", "customer_publishes", "customer_users"]

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
EXAMPLE_SPEC = Path(__file__).resolve().parents[1] / "examples" / "acme" / "customer.yaml"


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
    prefect: Annotated[
        bool,
        typer.Option(
            "--prefect/--no-prefect",
            help="Also run the long-lived Prefect server every onboard command reuses.",
        ),
    ] = True,
    customer: Annotated[
        Path, typer.Option("--customer", help="Publish this customer's DNS as before onboarding.")
    ] = EXAMPLE_SPEC,
    output_format: OutputFormat = Format.TEXT,
) -> None:
    """Start every lab server that is not running (safe to repeat)."""
    from lab import LabError
    from lab.customer_dns import publish_initial

    spec = Output(output_format).load_spec(customer)
    lab = _lab(state_dir, free_ports=free_ports)
    try:
        status = lab.up(prefect=prefect)
        created = publish_initial(lab.dns, spec)
    except LabError as exc:
        fail(str(exc))
    if created and output_format is Format.TEXT:
        typer.echo(f"DNS before onboarding published for: {', '.join(created)}")
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
        typer.Option("--user", help="Seed this mailbox (repeat); default: the customer's users."),
    ] = None,
    customer: Annotated[
        Path, typer.Option("--customer", help="Seed every user of this customer's list.")
    ] = EXAMPLE_SPEC,
    state_dir: StateDir = DEFAULT_STATE,
    output_format: OutputFormat = Format.TEXT,
) -> None:
    """Replace the source mailboxes' mail with the deterministic corpus."""
    from lab import LabError

    lab = _running(state_dir)
    out = Output(output_format)
    mailboxes = users or customer_users(out, out.load_spec(customer))
    try:
        report = lab.seed(profile.value, users=mailboxes)
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


def customer_users(out: Output, spec: OnboardingSpec) -> list[str]:
    """The addresses in the customer's user list (the mailboxes its old server has); an
    unreadable list exits 2 with its one sentence."""
    from onboarding import OnboardingError
    from validation.users import read_user_credentials

    try:
        return [u.email for u in read_user_credentials(spec)]
    except OnboardingError as exc:
        out.fail(str(exc))


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


def _latest_plan(spec: OnboardingSpec) -> dict[str, Any]:
    """The newest ``dns-plan.json`` this customer's runs wrote."""
    folder = Path(spec.output_dir) / spec.customer_slug
    plans = sorted(folder.glob("*-dns-plan*/dns-plan.json"))
    if not plans:
        raise FileNotFoundError(f"no dns-plan.json under {folder}; run `onboard dns-plan` first")
    data: dict[str, Any] = json.loads(plans[-1].read_text(encoding="utf-8"))
    return data


def customer_publishes(lab: Lab, spec: OnboardingSpec, say: Callable[[str], None]) -> None:
    """Play the customer: publish every record the latest plan says to add or keep; and
    MailRoute's operations: put the client-configuration files on their hosts."""
    from lab.clientconfig import publish_tree
    from lab.customer_dns import planned_records, publish_records

    for domain, records in planned_records(_latest_plan(spec)).items():
        publish_records(lab.dns, domain, records)
        say(f"  customer published {len(records)} records for {domain}")
    guides = sorted((Path(spec.output_dir) / spec.customer_slug).glob("*-client-guides*/publish"))
    if guides:
        published = publish_tree(lab.state_dir, guides[-1])
        say(f"  autoconfig/autodiscover files published: {len(published)}")


def _running(state_dir: Path) -> Lab:
    lab = _lab(state_dir)
    if lab.source.pid is None:
        fail(f"the lab in {state_dir} is not running; start it with `onboard lab up`")
    return lab


@app.command("publish-dns")
def publish_dns(spec: SpecArgument, state_dir: StateDir = DEFAULT_STATE) -> None:
    """Play the customer: publish the records the latest `onboard dns-plan` asked for."""
    customer = Output(Format.TEXT).load_spec(spec)
    lab = _running(state_dir)
    try:
        customer_publishes(lab, customer, typer.echo)
    except FileNotFoundError as exc:
        fail(str(exc))


@app.command("set-quota")
def set_quota(
    user: Annotated[str, typer.Argument(help="The hosted mailbox, e.g. alice.adams@acme.test.")],
    megabytes: Annotated[int, typer.Argument(help="Its quota in MB (0: no quota).", min=0)],
    state_dir: StateDir = DEFAULT_STATE,
) -> None:
    """Set a hosted mailbox's quota (its account must exist: run `onboard provision` first)."""
    lab = _running(state_dir)
    account = lab.destination.account(user)
    if account is None:
        fail(f"{user} has no hosted mailbox in the lab; run `onboard provision SPEC` first")
    quota = megabytes * 1024 * 1024 or None
    lab.destination.set_account(
        user, account.password, quota_bytes=quota, max_message_bytes=account.max_message_bytes
    )
    typer.echo(f"{user}: quota {f'{megabytes} MB' if quota else 'none'}")


@app.command("down")
def down(state_dir: StateDir = DEFAULT_STATE) -> None:
    """Stop exactly the processes the lab started (safe to repeat)."""
    if not (state_dir / "lab.json").exists():
        typer.echo(f"no lab in {state_dir}; nothing to stop")
        return
    _lab(state_dir).down()
    typer.echo("lab stopped")
