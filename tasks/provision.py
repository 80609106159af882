"""Tasks of the ``provision`` flow: thin wrappers over ``onboarding.controlpanel``.

Every task takes the spec (and the validated users) as models; the API key and the users'
passwords come from the flow run's vault (:mod:`tasks.vault`). No task persists a result or
has a cache key, so no secret reaches a parameter, a result or Prefect's storage. No task
retries: the engine retries transient HTTP failures per request and per account, and a
conflict must not be retried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from onboarding.controlpanel import (
    ACCOUNT_COLUMNS,
    ALIAS_COLUMNS,
    SETUP_COLUMNS,
    AccountsReport,
    AliasesReport,
    Outcome,
    ProvisioningReport,
    SetupResult,
    account_rows,
    alias_rows,
    provision_accounts,
    provision_aliases,
    self_service_markdown,
    set_up_customer,
    setup_rows,
    summary_markdown,
)
from onboarding.mailflow import check_accounts
from onboarding.reports import RunFolder
from tasks.adapters import control_panel, customer_domains, imap_endpoint
from tasks.vault import current_vault
from validation.spec import OnboardingSpec
from validation.users import ValidatedUser

__all__ = [
    "check_access",
    "new_run_folder",
    "prove_logins",
    "provision_mailbox_aliases",
    "provision_mailboxes",
    "publish_report",
    "set_up",
    "write_self_service",
]


def _progress(every: int) -> Callable[[int, int], None]:
    logger = get_run_logger()

    def report(done: int, total: int) -> None:
        if done == total or done % every == 0:
            logger.info("accounts: %d/%d done", done, total)

    return report


@task(name="check-control-panel-access", persist_result=False, cache_policy=NO_CACHE)
def check_access(spec: OnboardingSpec) -> None:
    """Fail at once on a wrong key or missing privilege (contract §6.15)."""
    with control_panel(spec, current_vault()) as cp:
        cp.check_access()


@task(name="set-up-customer", persist_result=False, cache_policy=NO_CACHE)
def set_up(spec: OnboardingSpec) -> SetupResult:
    """Create the customer, its domains and their initial routing where missing."""
    with control_panel(spec, current_vault()) as cp:
        result = set_up_customer(
            cp,
            customer=spec.customer,
            reseller=spec.reseller,
            domains=customer_domains(spec),
            hosted=(spec.hosted.delivery_host, spec.hosted.delivery_port),
        )
        get_run_logger().info("set-up HTTP requests: %s", cp.requests_made)
    return result


@task(name="provision-mailboxes", persist_result=False, cache_policy=NO_CACHE)
def provision_mailboxes(spec: OnboardingSpec, setup: SetupResult) -> AccountsReport:
    """Create every validated user's mailbox that is missing, with their CSV password."""
    vault = current_vault()
    credentials = list(vault.credentials(spec).values())
    with control_panel(spec, vault) as cp:
        return provision_accounts(
            cp,
            credentials,
            setup.domain_uris,
            blocked=setup.blocked,
            concurrency=spec.controlpanel.concurrency,
            send_welcome=spec.send_welcome,
            progress=_progress(max(1, len(credentials) // 10)),
        )


@task(name="provision-aliases", persist_result=False, cache_policy=NO_CACHE)
def provision_mailbox_aliases(
    spec: OnboardingSpec,
    users: Sequence[ValidatedUser],
    setup: SetupResult,
    accounts: AccountsReport,
) -> AliasesReport:
    """Give each mailbox the aliases the user list names, creating only the missing ones."""
    owners = [u for u in users if u.aliases]
    if not owners:
        return AliasesReport()
    with control_panel(spec, current_vault()) as cp:
        return provision_aliases(
            cp,
            owners,
            setup.domain_uris,
            blocked=setup.blocked,
            missing={a.email: a.reason for a in accounts.failed},
            concurrency=spec.controlpanel.concurrency,
        )


@task(name="prove-logins", persist_result=False, cache_policy=NO_CACHE)
def prove_logins(spec: OnboardingSpec, report: AccountsReport) -> AccountsReport:
    """Log in to the hosted IMAP as every account that exists; return the report with it."""
    usable = {a.email for a in report.accounts if a.outcome is not Outcome.FAILED}
    by_email = current_vault().credentials(spec)
    credentials = [c for email, c in by_email.items() if email in usable]
    checks = check_accounts(
        imap_endpoint(spec), credentials, concurrency=max(4, spec.controlpanel.concurrency)
    )
    return report.with_logins(checks)


@task(name="write-self-service-instructions", persist_result=False, cache_policy=NO_CACHE)
def write_self_service(spec: OnboardingSpec, users: Sequence[ValidatedUser], folder: Path) -> str:
    """Publish the users' self-service instructions (artifact and file); create nothing."""
    text = self_service_markdown(
        spec.customer,
        spec.domain_names,
        [u.email for u in users],
        imap_host=spec.hosted.imap_host,
        imap_port=spec.hosted.imap_port,
        smtp_host=spec.hosted.smtp_host,
        control_panel=spec.controlpanel.base_url,
        aliases={u.email: u.aliases for u in users if u.aliases},
    )
    create_markdown_artifact(text, key=f"self-service-{spec.customer_slug}")
    RunFolder(folder).write_text("self-service-instructions.md", text)
    return text


@task(name="publish-provisioning-report", persist_result=False, cache_policy=NO_CACHE)
def publish_report(spec: OnboardingSpec, folder: Path, report: ProvisioningReport) -> None:
    """Publish the ``provisioning-<slug>`` table and summary; write CSVs to the run folder."""
    slug = spec.customer_slug
    run = RunFolder(folder)
    setup, accounts, aliases = report.setup, report.accounts, report.aliases
    summary = summary_markdown(
        spec.customer, setup, accounts, self_service=accounts is None, aliases=aliases
    )
    rows = account_rows(accounts, aliases) if accounts is not None else []
    create_table_artifact(
        rows or setup_rows(setup),
        key=f"provisioning-{slug}",
        description=f"provisioning of {spec.customer}: one row per "
        + ("account" if rows else "control-panel object"),
    )
    create_markdown_artifact(summary, key=f"provisioning-summary-{slug}")
    run.write_text("summary.md", summary)
    run.write_csv("setup.csv", setup_rows(setup), SETUP_COLUMNS)
    if accounts is not None:
        columns = (*ACCOUNT_COLUMNS, "aliases") if aliases is not None else ACCOUNT_COLUMNS
        run.write_csv("provisioning.csv", rows, columns)
    if aliases is not None:
        run.write_csv("aliases.csv", alias_rows(aliases), ALIAS_COLUMNS)
    # What the customer's final report reads (after verify): the report plus one row per
    # account and alias.
    run.write_json(
        "provisioning.json",
        report.to_dict()
        | {
            "self_service": accounts is None,
            "account_rows": rows,
            "alias_rows": alias_rows(aliases) if aliases is not None else [],
        },
    )
    if not report.ok:
        get_run_logger().error(report.message)


def new_run_folder(spec: OnboardingSpec) -> Path:
    """Create this run's report folder."""
    return RunFolder.create(spec.output_dir, spec.customer_slug, "provision").path
