"""Tasks of the ``verify`` flow (and the mail-flow probe the cutover reuses).

Each task takes the spec as a model and the users' passwords from the flow run's vault
(:mod:`tasks.vault`); none persists a result or has a cache key, so no password reaches a
parameter, a result or Prefect's storage. What they
return (logins ok/failed with counts, probe results) carries no secret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from onboarding.clientconfig import LookupResult, check_client_config
from onboarding.cutover import (
    ACCOUNT_COLUMNS,
    ISSUE_COLUMNS,
    VerificationReport,
    ledger_path,
    load_ledger,
)
from onboarding.cutover.catchup import CatchupPass, catchup_passes
from onboarding.mailflow import (
    AccountCheck,
    ClientCheck,
    ProbeMessage,
    ProbeResult,
    await_in_mailboxes,
    check_accounts,
    check_alias_flow,
    check_client_accounts,
    check_mail_flow,
    first_working,
    send_probe,
)
from onboarding.reports import RunFolder
from tasks.adapters import (
    accounts_to_test,
    client_hosts,
    client_lookup,
    client_lookup_addresses,
    imap_endpoint,
    smtp_endpoint,
    submission_endpoint,
)
from tasks.dns import DNSOutcome
from tasks.vault import current_vault
from validation.spec import OnboardingSpec
from validation.users import UserCredentials, ValidatedUser

__all__ = [
    "await_held_probes",
    "check_account_logins",
    "check_client_setup",
    "check_test_accounts",
    "probe_aliases",
    "probe_mail_flow",
    "publish_verification",
    "send_held_probes",
]


def _probe_recipients(
    spec: OnboardingSpec, credentials: Mapping[str, UserCredentials]
) -> dict[str, tuple[UserCredentials | None, str | None]]:
    """Per domain the mailbox a probe goes to (its first user that logs in), or why none."""
    imap = imap_endpoint(spec)
    found: dict[str, tuple[UserCredentials | None, str | None]] = {}
    for d in spec.domain_names:
        users = [c for c in credentials.values() if c.email.lower().endswith("@" + d)]
        found[d] = first_working(imap, users)
    return found


def _log_tally(message: str, total: int, failed: Sequence[str], failed_as: str) -> None:
    """Log ``message`` with ok/total filled in, then the first 20 that failed.

    ``_log_tally("%d/%d accounts log in", 3, ["a@x.test"], "failed")`` logs
    ``2/3 accounts log in; failed: a@x.test``.
    """
    get_run_logger().info(
        message + "%s",
        total - len(failed),
        total,
        f"; {failed_as}: {', '.join(failed[:20])}" if failed else "",
    )


@task(name="probe-mail-flow", persist_result=False, cache_policy=NO_CACHE)
def probe_mail_flow(spec: OnboardingSpec) -> tuple[ProbeResult, ...]:
    """Send a tagged message to each domain through the gateway; find it in the mailbox."""
    results = []
    for domain, (cred, why) in _probe_recipients(spec, current_vault().credentials(spec)).items():
        if cred is None:
            results.append(ProbeResult(domain, None, None, False, error=why))
            continue
        results.append(
            check_mail_flow(
                smtp_endpoint(spec),
                imap_endpoint(spec),
                cred.email,
                cred.password.get_secret_value(),
                timeout=spec.cutover.probe_timeout_seconds,
            )
        )
        get_run_logger().info("mail flow to %s: %s", domain, results[-1].error or "delivered")
    return tuple(results)


@task(name="send-held-mail-probes", persist_result=False, cache_policy=NO_CACHE)
def send_held_probes(spec: OnboardingSpec) -> tuple[ProbeMessage, ...]:
    """While held: one probe per domain into the gateway's queue, to be found after release."""
    recipients = _probe_recipients(spec, current_vault().credentials(spec))
    return tuple(
        send_probe(smtp_endpoint(spec), cred.email) for cred, _ in recipients.values() if cred
    )


@task(name="probe-aliases", persist_result=False, cache_policy=NO_CACHE)
def probe_aliases(spec: OnboardingSpec) -> tuple[ProbeResult, ...]:
    """Send a tagged message to every alias in the user list; find each in its owner's INBOX."""
    owners = [c for c in current_vault().credentials(spec).values() if c.aliases]
    results = check_alias_flow(
        smtp_endpoint(spec), imap_endpoint(spec), owners, timeout=spec.cutover.probe_timeout_seconds
    )
    failed = [str(p.recipient) for p in results if not p.delivered]
    _log_tally("mail to %d/%d aliases delivered", len(results), failed, "not delivered")
    return results


@task(name="await-held-mail", persist_result=False, cache_policy=NO_CACHE)
def await_held_probes(
    spec: OnboardingSpec, probes: Sequence[ProbeMessage]
) -> tuple[ProbeResult, ...]:
    """Wait for the probes sent while delivery was held: held mail has reached the mailbox."""
    credentials = current_vault().credentials(spec)
    by_mailbox: dict[str, list[ProbeMessage]] = {}
    for probe in probes:
        by_mailbox.setdefault(probe.recipient, []).append(probe)
    return await_in_mailboxes(
        imap_endpoint(spec),
        [(m, credentials[m].password.get_secret_value(), ps) for m, ps in by_mailbox.items()],
        timeout=spec.cutover.probe_timeout_seconds,
    )


@task(name="check-account-logins", persist_result=False, cache_policy=NO_CACHE)
def check_account_logins(spec: OnboardingSpec) -> tuple[AccountCheck, ...]:
    """Log in to the hosted IMAP as every user in the list and count their INBOX."""
    checks = check_accounts(
        imap_endpoint(spec),
        list(current_vault().credentials(spec).values()),
        concurrency=max(4, spec.controlpanel.concurrency),
    )
    failed = [c.email for c in checks if not c.ok]
    _log_tally("%d/%d accounts log in", len(checks), failed, "failed")
    return checks


@task(name="check-client-setup", persist_result=False, cache_policy=NO_CACHE)
def check_client_setup(
    spec: OnboardingSpec, users: Sequence[ValidatedUser]
) -> tuple[LookupResult, ...]:
    """Thunderbird's and Outlook's lookups per domain, through the spec's resolvers."""
    results = check_client_config(
        client_lookup_addresses(spec, users), client_hosts(spec), client_lookup(spec)
    )
    failed = [f"{r.domain} ({r.client})" for r in results if not r.valid]
    _log_tally("%d/%d client set-up lookups right", len(results), failed, "wrong")
    return results


@task(name="check-test-accounts", persist_result=False, cache_policy=NO_CACHE)
def check_test_accounts(spec: OnboardingSpec) -> tuple[ClientCheck, ...]:
    """Prove each test account works as its mail client will: IMAP login, an authenticated
    send through the hosted submission service, and that message's receipt."""
    logins, missing = accounts_to_test(spec, current_vault().credentials(spec))
    checks = check_client_accounts(
        imap_endpoint(spec),
        submission_endpoint(spec),
        logins,
        timeout=spec.cutover.probe_timeout_seconds,
    )
    checks += tuple(
        ClientCheck(
            email,
            False,
            "imap",
            error="not in the user list; fix cutover.test_accounts in the spec",
        )
        for email in missing
    )
    failed = [c.email for c in checks if not c.ok]
    _log_tally("%d/%d test accounts work", len(checks), failed, "failed")
    return checks


@task(name="publish-verification", persist_result=False, cache_policy=NO_CACHE)
def publish_verification(
    spec: OnboardingSpec,
    followup: bool,
    accounts: tuple[AccountCheck, ...],
    probes: tuple[ProbeResult, ...],
    aliases: tuple[ProbeResult, ...],
    dns: DNSOutcome,
    client_config: tuple[LookupResult, ...] = (),
) -> tuple[VerificationReport, Path]:
    """Build the report; publish ``verification-<slug>`` (open issues first); write the folder.

    A follow-up of a migrated customer also reports the catch-up passes run since the
    cutover and what they brought from the old server.
    """
    catchup: tuple[CatchupPass, ...] = ()
    completed = load_ledger(ledger_path(spec.output_dir, spec.customer_slug)).completed_at
    due = followup and spec.migration.enabled and completed is not None
    if due and completed is not None:
        catchup = catchup_passes(spec.output_dir, spec.customer_slug, completed)
    report = VerificationReport(
        spec.customer,
        datetime.now(UTC),
        followup,
        accounts,
        probes,
        dns.report,
        dns.error,
        aliases,
        client_config,
        catchup=catchup,
        catchup_due=due,
    )
    slug = spec.customer_slug
    folder = RunFolder.create(spec.output_dir, slug, "verify")
    markdown = report.markdown()
    folder.write_text("verification.md", markdown)
    folder.write_csv("open-issues.csv", report.issues, ISSUE_COLUMNS)
    folder.write_csv("accounts.csv", [a.to_dict() for a in report.accounts], ACCOUNT_COLUMNS)
    folder.write_json("verification.json", report.to_dict())
    create_markdown_artifact(
        markdown, key=f"verification-{slug}", description=f"{spec.customer}: {report.summary}"
    )
    if report.issues:
        create_table_artifact(
            list(report.issues),
            key=f"verification-issues-{slug}",
            description=f"{len(report.issues)} open issue(s) after the cutover",
        )
    get_run_logger().info("%s; report in %s", report.summary, folder.path)
    return report, folder.path
