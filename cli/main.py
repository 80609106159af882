"""The ``onboard`` command: runs the onboarding flows locally.

Every command that reads a customer takes the spec path (customer.yaml) as its first
argument and accepts ``--format json``. Commands live in one module each under ``cli/``
and are registered here.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

app = typer.Typer(
    name="onboard",
    help="Move a customer onto MailRoute's hosted email: validate, provision, migrate, cut over.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Imported here so `onboard --help` stays fast and each command owns its module.
    from cli import (
        client_guides,
        cutover,
        demo,
        dns,
        migrate,
        preflight,
        provision,
        resume,
        run,
        status,
        validate,
        verify,
    )
    from cli import lab as lab_cli

    # In runbook order, the order `onboard --help` lists them in (the lab group after them).
    commands: dict[str, Callable[..., None]] = {
        "validate": validate.validate,
        "preflight": preflight.preflight,
        "migrate": migrate.migrate,
        "provision": provision.provision,
        "dns-plan": dns.dns_plan,
        "dns-check": dns.dns_check,
        "client-guides": client_guides.client_guides,
        "cutover": cutover.cutover,
        "verify": verify.verify,
        "run": run.run,
        "resume": resume.resume,
        "status": status.status,
        "demo": demo.demo,
    }
    for name, command in commands.items():
        app.command(name)(command)
    app.add_typer(lab_cli.app, name="lab")


_register()

if __name__ == "__main__":
    app()
