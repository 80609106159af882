"""Tasks of the ``dns-plan`` and ``dns-check`` flows: DKIM keys in Secret blocks, the DNS
engine, and the artifacts.

The DKIM private key of each domain lives in the Prefect Secret block
``dkim-<domain-slug>-<selector>-<hash>`` (:func:`tasks.adapters.dkim_block_name`; or
``ONBOARD_SECRET_DKIM_...`` for local runs), stored as JSON naming its domain and selector,
which are checked on every read. The plan task reuses a stored key and stores a new one only
when none exists, so a re-run never rotates a key the customer may already have published; a
key found only under the old name (``dkim-<domain-slug>-<selector>``) is re-saved under the
new one. Tasks that touch keys persist no result and
have no cache key; what they return to the flow carries no private key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE

from onboarding import OnboardingError
from onboarding.cutover import (
    assess_readiness,
    ledger_path,
    load_ledger,
    noted_mx_ttls,
    save_ledger,
)
from onboarding.dnscheck import (
    CheckReport,
    DNSPlan,
    build_plan,
    render_markdown,
    render_zone_snippet,
    run_checks,
    run_propagation,
)
from onboarding.dnscheck.checks import PropagationSummary
from onboarding.dnscheck.render import render_checks_markdown, render_propagation_markdown
from onboarding.reports import RunFolder
from tasks.adapters import (
    dkim_block_name,
    dkim_blocks_to_save,
    dkim_keys,
    dns_inputs,
    stored_dkim_pems,
)
from tasks.secrets import current_api_url, require_team_server
from tasks.vault import current_vault
from validation.spec import OnboardingSpec

__all__ = [
    "DNSOutcome",
    "check_dns",
    "check_dns_outcome",
    "check_propagation",
    "plan_dns",
    "publish_dns_check",
    "publish_dns_plan",
    "record_propagation",
    "records_key",
]


def records_key(spec: OnboardingSpec) -> str:
    """The artifact key of the customer-facing records: ``dns-records-<customer-slug>``."""
    return f"dns-records-{spec.customer_slug}"


@task(name="plan-dns", persist_result=False, cache_policy=NO_CACHE)
def plan_dns(spec: OnboardingSpec) -> DNSPlan:
    """Read current DNS, build the plan; store any newly generated DKIM key in a Secret block."""
    vault = current_vault()
    stored = stored_dkim_pems(spec, vault)
    plan = build_plan(dns_inputs(spec), dkim_keys=stored)
    _require_published_keys(spec, plan, stored)
    to_save = dkim_blocks_to_save(spec, vault, [d.dkim for d in plan.domains])
    if to_save:
        require_team_server(spec.prefect.api_url, "create DKIM key Secret blocks")
    for name, value in to_save.items():
        Secret(value=value).save(name, overwrite=False)
    return plan


class DKIMKeyNotFound(RuntimeError):
    """Raised when a DKIM key is published at our selector but its private key is not where
    ``dns-plan`` stored it: the plan must not ask the customer to replace the record."""

    transient = False


def _require_published_keys(
    spec: OnboardingSpec, plan: DNSPlan, stored: Mapping[str, object | None]
) -> None:
    """Refuse a plan that would replace a published key of ours it cannot find."""
    lost = [d for d in plan.domains if stored.get(d.domain) is None and d.current.dkim]
    if not lost:
        return
    server = current_api_url() or "no Prefect server (a temporary local one)"
    where = "; ".join(
        f"{d.domain}: Secret block {dkim_block_name(d.domain, spec.dns.dkim_selector)}"
        for d in lost
    )
    raise DKIMKeyNotFound(
        f"a DKIM key is already published at selector {spec.dns.dkim_selector} but its private "
        f"key is not on the Prefect server this run uses ({server}); it should have been "
        f"there ({where}): run dns-plan against the server that first planned this customer "
        f"(PREFECT_API_URL; name it in the spec as prefect.api_url) or restore the block, and "
        f"do not ask the customer to replace the published record"
    )


@task(name="publish-dns-plan", persist_result=False, cache_policy=NO_CACHE)
def publish_dns_plan(spec: OnboardingSpec, plan: DNSPlan) -> Path:
    """Write markdown, zone snippet and JSON to a run folder; publish the records artifact."""
    markdown = render_markdown(plan)
    folder = RunFolder.create(spec.output_dir, spec.customer_slug, "dns-plan")
    folder.write_text("dns-records.md", markdown)
    folder.write_text("dns-records.zone", render_zone_snippet(plan))
    folder.write_json("dns-plan.json", plan.to_dict())
    create_markdown_artifact(
        markdown,
        key=records_key(spec),
        description=f"DNS records for {spec.customer}: {len(plan.warnings)} warning(s)",
    )
    get_run_logger().info(
        "%d domain(s) planned, %d warning(s); artifact %s, files in %s",
        len(plan.domains),
        len(plan.warnings),
        records_key(spec),
        folder.path,
    )
    return folder.path


def _checks(spec: OnboardingSpec) -> CheckReport:
    keys = dkim_keys(spec, current_vault())
    return run_checks(
        dns_inputs(spec), dkim_public={d: k.public_b64 if k else None for d, k in keys.items()}
    )


@task(name="check-dns", persist_result=False, cache_policy=NO_CACHE)
def check_dns(spec: OnboardingSpec) -> CheckReport:
    """MX, SPF, DKIM (against our stored key) and DMARC checks via the configured resolvers."""
    return _checks(spec)


@dataclass(frozen=True)
class DNSOutcome:
    """The DNS checks' report, or why they could not run (verification reports either)."""

    report: CheckReport | None
    error: str | None = None


@task(name="check-dns", persist_result=False, cache_policy=NO_CACHE)
def check_dns_outcome(spec: OnboardingSpec) -> DNSOutcome:
    """:func:`check_dns` that never raises: an unreadable DNS becomes the outcome's error."""
    try:
        return DNSOutcome(_checks(spec))
    except OnboardingError as exc:  # the verification still lists logins and mail flow
        return DNSOutcome(None, f"the DNS checks could not run: {exc}")


@task(name="check-propagation", persist_result=False, cache_policy=NO_CACHE)
def check_propagation(spec: OnboardingSpec) -> PropagationSummary:
    """Authoritative servers first, then resolvers for published records only."""
    keys = dkim_keys(spec, current_vault())
    return run_propagation(
        dns_inputs(spec), dkim_records={d: k.record if k else None for d, k in keys.items()}
    )


@task(name="record-propagation", persist_result=False, cache_policy=NO_CACHE)
def record_propagation(spec: OnboardingSpec, propagation: PropagationSummary) -> None:
    """Note in the cutover ledger when each domain's new records were first seen published.

    The cutover's 2×TTL wait counts from that moment, so a ``dns-check --propagation`` run
    days before the cutover starts the clock then, not the cutover's own first check.
    """
    path = ledger_path(spec.output_dir, spec.customer_slug)
    _readiness, ledger = assess_readiness(
        propagation,
        load_ledger(path),
        noted_mx_ttls=noted_mx_ttls(spec.output_dir, spec.customer_slug),
        ttl_multiple=spec.cutover.ttl_multiple,
        now=datetime.now(UTC),
    )
    save_ledger(path, ledger)


@task(name="publish-dns-check", persist_result=False, cache_policy=NO_CACHE)
def publish_dns_check(
    spec: OnboardingSpec,
    report: CheckReport | None,
    propagation: PropagationSummary | None,
) -> Path:
    """Write the check and/or propagation report to a run folder and publish it."""
    folder = RunFolder.create(spec.output_dir, spec.customer_slug, "dns-check")
    parts: list[str] = []
    if report is not None:
        parts.append(render_checks_markdown(spec.customer, report))
        folder.write_json("dns-check.json", report.to_dict())
    if propagation is not None:
        parts.append(render_propagation_markdown(spec.customer, propagation.reports))
        folder.write_json("dns-propagation.json", propagation.to_dict())
    markdown = "\n".join(parts)
    folder.write_text("dns-check.md", markdown)
    create_markdown_artifact(markdown, key=f"dns-check-{spec.customer_slug}")
    get_run_logger().info("DNS check report in %s", folder.path)
    return folder.path
