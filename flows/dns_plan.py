"""Runbook phase 3, "give the customer the DNS records to publish and note the MX TTL".

Triggered by an operator once the domains exist in the control panel (``onboard dns-plan
SPEC``), and again whenever the customer's DNS changed before they publish. Steps: read each
domain's current records from its authoritative servers and build the plan (MX to us only,
one merged SPF with its lookup count, our DKIM key, DMARC, client autoconfiguration, the MX TTL
and earliest cutover time); publish it as the ``dns-records-<customer>`` artifact and to the
run folder (markdown and a zone-file snippet).

It changes no DNS (the customer publishes), never asks a public resolver for the new names
(that would cache their absence), and never rotates a stored DKIM key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import State

from flows.results import DNSPlanResult, end
from flows.run_names import run_name
from tasks.customer import read_spec
from tasks.dns import plan_dns, publish_dns_plan

__all__ = ["dns_plan"]


@flow(name="dns-plan", flow_run_name=run_name("dns plan"), log_prints=False)
def dns_plan(spec_path: Path) -> State[Any]:
    """Plan the DNS records of the customer in ``spec_path``; see the module doc.

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
    """
    spec = read_spec(spec_path)
    plan = plan_dns(spec)
    folder = publish_dns_plan(spec, plan)
    return end(DNSPlanResult.of(plan, folder))
