"""``onboard demo SPEC``: the lab plus a full onboarding of the example customer, on one machine.

What it does, in runbook order:

1. starts the lab (``.lab/``, fixed ports the example spec names) and seeds the old server
   with a realistic mailbox for every user in the spec's CSV;
2. gives the customer's domains the DNS they have before onboarding (MX at the old provider);
3. runs the ``onboard`` flow — validate, provision, initial migration, DNS plan, then the
   pauses where a person acts. The demo answers them the way the people would: the customer
   publishes exactly the records ``dns-plan`` asked for (in the lab's DNS), and the operator
   approves the cutover; MailRoute's operations put the autoconfig/autodiscover files that
   ``client-guides`` wrote on the lab's client-configuration host. Then cutover (hold, final
   sync, routing switch, release, probes) and verification run, which writes the customer's
   report.

Safe to run twice: the lab stays up, accounts and messages are not duplicated, a completed
cutover is only re-verified. ``onboard lab down`` stops the lab afterwards.
"""

from __future__ import annotations

import os
import threading
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.lab import customer_publishes, customer_users
from cli.output import Format, FormatOption, Output, exit_with, print_json
from cli.prefect_runtime import LAB_STATE_ENV

__all__ = ["demo"]


def demo(
    spec: Annotated[Path, typer.Argument(help="The customer's YAML spec (the example's).")],
    state_dir: Annotated[Path, typer.Option("--state-dir", help="Lab state folder.")] = Path(
        ".lab"
    ),
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Start the lab and onboard the example customer end to end."""
    from lab import Lab, LabError
    from lab.customer_dns import publish_initial

    out = Output(output_format)
    customer = out.load_spec(spec)
    users = customer_users(out, customer)
    # With --format json, stdout carries only the final JSON document; the narrative goes
    # to stderr so a person still sees it.
    say = partial(typer.echo, err=output_format is Format.JSON)

    say(f"1/3 lab: starting real servers under {state_dir}/")
    lab = Lab(state_dir)
    try:
        status = lab.up(prefect=True)  # the long-lived Prefect server the runs report to
        seeded = lab.seeded()
        if seeded is None or set(seeded.counts) != set(users):
            report = lab.seed("small", users=users)
            say(f"  seeded the old server: {len(users)} mailboxes, {report.total} messages")
        created = publish_initial(lab.dns, customer)
    except LabError as exc:
        out.fail(str(exc))
    for server in status.servers:
        ports = ", ".join(f"{kind} {port}" for kind, port in server.ports.items())
        say(f"  {server.name:<14} {server.host} {ports}  pid {server.pid}")
    if created:
        say(f"  DNS before onboarding published for: {', '.join(created)}")
    os.environ.update(lab.secret_env())
    os.environ[LAB_STATE_ENV] = str(state_dir)  # so the runs find this lab's Prefect server

    say(f"2/3 onboard {customer.customer}: every phase as a Prefect flow run")
    from cli.prefect_runtime import run_flow
    from cli.run import answer_pauses, in_thread, runs_tag
    from flows.results import OnboardResult

    def answer(question: str) -> bool:
        say(f"  pause: {question}")
        if "DNS" in question and "published" in question:
            customer_publishes(lab, customer, say)
        say("  answered: yes")
        return True

    def start() -> Any:
        from prefect import tags

        from flows.onboard import onboard

        done = threading.Event()
        tag = runs_tag()
        asker = in_thread(answer_pauses, tag, customer.customer, done, answer)
        try:
            with tags(tag):
                return onboard(spec_path=spec.resolve(), dns_wait_seconds=120, return_state=True)
        finally:
            done.set()
            asker.join(5)

    result = run_flow(start, out, OnboardResult)

    reports = Path(customer.output_dir) / customer.customer_slug
    if out.json:
        print_json(result.to_json() | {"reports": str(reports)})
    else:
        say("3/3 result")
        for row in result.phases:
            say(f"  {row.phase:<20} {row.state:<14} {row.message}")
        say(f"  reports: {reports}/")
        say(result.message)
    exit_with(result.ok)
