"""The ``onboard`` command: runs the onboarding flows locally.

Every command that reads a customer takes the spec path (customer.yaml) as its first
argument and accepts ``--format json``. Commands live in one module each under ``cli/``
and are registered here.
"""

from __future__ import annotations

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

    app.command("validate")(validate.validate)
    app.command("preflight")(preflight.preflight)
    app.command("migrate")(migrate.migrate)
    app.command("provision")(provision.provision)
    app.command("dns-plan")(dns.dns_plan)
    app.command("dns-check")(dns.dns_check)
    app.command("client-guides")(client_guides.client_guides)
    app.add_typer(lab_cli.app, name="lab")
    app.command("cutover")(cutover.cutover)
    app.command("verify")(verify.verify)
    app.command("run")(run.run)
    app.command("resume")(resume.resume)
    app.command("status")(status.status)
    app.command("demo")(demo.demo)


_register()

if __name__ == "__main__":
    app()
