"""Runbook phases 3 and 4: "has the DNS change propagated?" and "do SPF/DKIM/DMARC work?".

Triggered by the operator or the cutover flow (``onboard dns-check SPEC --propagation``) while
waiting for the customer's change, and by verification after the cutover (``onboard dns-check
SPEC``). Propagation asks every authoritative server (serials, records) and then each configured
resolver, only for records already published everywhere, and records in the cutover ledger
when the new records were first seen on every authoritative server (the start of the
cutover's 2×TTL wait). The checks ask the resolvers: MX only
ours, SPF valid and passing for our outbound IPs, our DKIM key published, DMARC valid and
alignable. The run ends Failed when a check fails or the change has not propagated yet.

It changes nothing else, anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import State

from flows.results import DNSCheckResult, PropagationResult, end
from flows.run_names import run_name
from tasks.customer import read_spec
from tasks.dns import check_dns, check_propagation, publish_dns_check, record_propagation

__all__ = ["dns_check"]


@flow(
    name="dns-check",
    flow_run_name=run_name(lambda p: "dns propagation" if p.get("propagation") else "dns check"),
    log_prints=False,
)
def dns_check(spec_path: Path, propagation: bool = False) -> State[Any]:
    """Check the published DNS (or its propagation) of the customer in ``spec_path``.

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
        propagation: Check that the changes reached every server and resolver instead.
    """
    spec = read_spec(spec_path)
    if propagation:
        summary = check_propagation(spec)
        record_propagation(spec, summary)
        return end(PropagationResult.of(summary, publish_dns_check(spec, None, summary)))
    report = check_dns(spec)
    return end(DNSCheckResult.of(report, publish_dns_check(spec, report, None)))
