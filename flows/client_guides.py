"""Runbook phase 3, "distribute email client configuration guides".

Triggered after ``dns-plan`` (``onboard run`` runs it next; ``onboard client-guides SPEC`` on
its own, again whenever users or aliases change). Writes, per customer, the set-up guide
(Markdown, HTML, PDF) with the hosted settings, steps per mail program and troubleshooting;
a one-page sheet per user (address and aliases) with their Apple profile; and the
autoconfig/autodiscover files our hosts must serve. Artifact ``client-guides-<customer>``.

It sends nothing to anyone and never reads a password: users get theirs separately.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.states import State

from flows.results import ClientGuidesResult, end
from flows.run_names import run_name
from tasks.client_guides import write_client_guides
from tasks.customer import load_customer

__all__ = ["client_guides"]


@flow(name="client-guides", flow_run_name=run_name("client guides"), log_prints=False)
def client_guides(spec_path: Path) -> State[Any]:
    """Write the client guides of the customer in ``spec_path``; see the module doc.

    Args:
        spec_path: Customer slug (``acme``: <customers root>/acme/customer.yaml) or spec path.
    """
    customer = load_customer(spec_path)
    written = write_client_guides(customer.spec, customer.users)
    return end(ClientGuidesResult.of(written))
