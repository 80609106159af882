"""Tasks of the ``dns-plan`` and ``dns-check`` flows: DKIM keys in Secret blocks, the DNS
engine, and the artifacts.

The DKIM private key of each domain lives in the Prefect Secret block
``dkim-<domain-slug>-<selector>`` (or ``ONBOARD_SECRET_DKIM_...`` for local runs). The plan
task reuses a stored key and stores a new one only when none exists, so a re-run never rotates
a key the customer may already have published. Tasks that touch keys persist no result and
have no cache key; what they return to the flow carries no private key.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.blocks.system import Secret
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr

from onboarding.clientconfig import ClientHosts
from onboarding.dnscheck import (
    CheckReport,
    DNSInputs,
    DNSPlan,
    DNSServers,
    DomainInput,
    HostedRecords,
    RecordOptions,
    build_plan,
    render_markdown,
    render_zone_snippet,
    run_checks,
    run_propagation,
)
from onboarding.dnscheck.checks import PropagationSummary
from onboarding.dnscheck.dkim import DKIMKey, load_key
from onboarding.dnscheck.query import parse_server
from onboarding.dnscheck.render import render_checks_markdown, render_propagation_markdown
from onboarding.reports import RunFolder
from tasks.secrets import load_secret
from validation.spec import OnboardingSpec, slugify

__all__ = [
    "check_dns",
    "check_propagation",
    "dkim_block_name",
    "dns_inputs",
    "plan_dns",
    "publish_dns_check",
    "publish_dns_plan",
    "records_key",
]


def records_key(spec: OnboardingSpec) -> str:
    """The artifact key of the customer-facing records: ``dns-records-<customer-slug>``."""
    return f"dns-records-{spec.customer_slug}"


def dkim_block_name(domain: str, selector: str) -> str:
    """The Secret block holding ``domain``'s DKIM private key for ``selector``."""
    return f"dkim-{slugify(domain)}-{slugify(selector)}"[:63].rstrip("-")


def dns_inputs(spec: OnboardingSpec) -> DNSInputs:
    """The DNS engine's inputs from the spec: domains, our records, options, servers.

    Raises ValueError when a DNS server in ``dns.resolvers`` / ``dns.nameservers`` is not an IP
    address with an optional port.
    """
    hosted, dns = spec.hosted, spec.dns
    return DNSInputs(
        customer=spec.customer,
        customer_slug=spec.customer_slug,
        domains=tuple(
            DomainInput(d.name, tuple(s.host for s in d.mail_servers)) for d in spec.domains
        ),
        hosted=HostedRecords(
            mx_hosts=tuple((m.priority, m.host) for m in hosted.mx_hosts),
            spf_include=hosted.spf_include,
            outbound_ips=hosted.outbound_ips,
            clients=ClientHosts(
                hosted.client_imap_host,
                hosted.client_submission_host,
                hosted.autoconfig_host,
                hosted.autodiscover_host,
            ),
        ),
        options=RecordOptions(
            dkim_selector=dns.dkim_selector,
            dmarc_policy=dns.dmarc_policy,
            dmarc_rua=dns.dmarc_rua,
            old_spf_includes=dns.old_spf_includes,
        ),
        servers=DNSServers(
            resolvers=tuple(parse_server(s) for s in dns.resolvers),
            nameservers=tuple(parse_server(s) for s in dns.nameservers),
            timeout=dns.timeout_seconds,
        ),
        ttl_multiple=spec.cutover.ttl_multiple,
    )


def _stored_keys(spec: OnboardingSpec) -> dict[str, SecretStr | None]:
    keys: dict[str, SecretStr | None] = {}
    for dom in spec.domains:
        try:
            value = load_secret(dkim_block_name(dom.name, spec.dns.dkim_selector))
        except LookupError:
            value = None
        keys[dom.name] = SecretStr(value) if value else None
    return keys


@task(name="plan-dns", persist_result=False, cache_policy=NO_CACHE)
def plan_dns(spec: OnboardingSpec) -> DNSPlan:
    """Read current DNS, build the plan; store any newly generated DKIM key in a Secret block."""
    plan = build_plan(dns_inputs(spec), dkim_keys=_stored_keys(spec))
    for dom in plan.domains:
        if not dom.dkim.reused:
            Secret(value=dom.dkim.private_pem.get_secret_value()).save(
                dkim_block_name(dom.domain, dom.dkim.selector), overwrite=False
            )
    return plan


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
    return folder.path


def _our_keys(spec: OnboardingSpec) -> dict[str, DKIMKey | None]:
    """Our stored DKIM key per domain (None when the plan has not made one yet)."""
    return {
        domain: load_key(domain, spec.dns.dkim_selector, pem) if pem else None
        for domain, pem in _stored_keys(spec).items()
    }


@task(name="check-dns", persist_result=False, cache_policy=NO_CACHE)
def check_dns(spec: OnboardingSpec) -> CheckReport:
    """MX, SPF, DKIM (against our stored key) and DMARC checks via the configured resolvers."""
    keys = _our_keys(spec)
    public = {d: k.public_b64 if k else None for d, k in keys.items()}
    return run_checks(dns_inputs(spec), dkim_public=public)


@task(name="check-propagation", persist_result=False, cache_policy=NO_CACHE)
def check_propagation(spec: OnboardingSpec) -> PropagationSummary:
    """Authoritative servers first, then resolvers for published records only."""
    keys = _our_keys(spec)
    records = {d: k.record if k else None for d, k in keys.items()}
    return run_propagation(dns_inputs(spec), dkim_records=records)


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
    return folder.path
