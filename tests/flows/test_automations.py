"""Issue 11, "nothing missed": the automations ``python -m deployments --automations`` sets up
on a real ``prefect server start`` (its triggers and actions services running) notify the ops
target, here the lab's ops inbox behind a ``custom-webhook`` block."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, cast

import pytest
from prefect import tags
from prefect.blocks.system import Secret
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from support.cutover_customer import LabCustomer, make_customer, panel, publish_plan
from support.flow_result import result_json
from support.migrate_customer import make_customer as make_migration_customer
from support.poll import until
from support.prefect_cluster import PrefectCluster

from cli.run import answer_pauses, in_thread, runs_tag
from flows.cutover import cutover
from lab import Lab, LabUsers

__all__ = ["make_customer", "panel"]  # fixtures used by name

_NOTICE_TIMEOUT_S = 120.0


def _notices(cluster: PrefectCluster, subject: str, naming: str) -> list[dict[str, Any]]:
    return [
        n
        for n in cluster.inbox.messages()
        if subject in str(n.get("subject")) and naming in str(n.get("body"))
    ]


def test_a_failed_migrate_notifies_ops(
    on_cluster: PrefectCluster,
    lab: Lab,
    lab_users: LabUsers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A migrate deployment run that ends Failed (a wrong hosted password) reaches the ops
    inbox: subject "migrate failed", the body names the customer's spec and the run's state."""
    user = lab_users.new()
    customer = make_migration_customer(
        tmp_path, lab, (user,), lab_users.domain, monkeypatch, wrong_password_for=user.email
    )
    Secret(value=customer.master_password).save(f"{customer.slug}-src-master", overwrite=True)
    run = cast(
        FlowRun,
        run_deployment(
            "migrate/initial", parameters={"spec_path": str(customer.spec)}, timeout=240
        ),
    )
    assert run.state is not None and run.state.is_failed(), run.state
    assert until(
        lambda: _notices(on_cluster, "migrate failed", str(customer.spec)), _NOTICE_TIMEOUT_S
    ), on_cluster.inbox.messages()
    (notice,) = _notices(on_cluster, "migrate failed", str(customer.spec))
    assert "ended Failed" in notice["body"] and str(run.id) in notice["body"], notice


@pytest.fixture
def ready_customer(on_cluster: PrefectCluster, make_customer: Any) -> LabCustomer:
    """A cutover customer provisioned (and its DNS published) through the cluster's server."""
    c: LabCustomer = make_customer(require_approval=True)
    publish_plan(c)
    return c


def test_a_paused_cutover_notifies_ops_naming_the_customer(
    on_cluster: PrefectCluster, ready_customer: LabCustomer
) -> None:
    """A cutover that pauses for approval sends "approval needed" naming the customer's spec
    before anyone answers; the operator then declines and nothing is held."""
    c = ready_customer
    heard: list[bool] = []

    def operator(_question: str) -> bool:  # answers only once the notice is in the inbox
        heard.append(
            until(lambda: _notices(on_cluster, "approval needed", str(c.spec)), _NOTICE_TIMEOUT_S)
        )
        return False

    done = threading.Event()
    tag = runs_tag()
    # in_thread runs it in this context: its Prefect client talks to the cluster too.
    resumer = in_thread(answer_pauses, tag, c.slug, done, operator)
    try:
        with tags(tag):
            state = cutover(spec_path=c.spec, return_state=True, wait_seconds=30)
    finally:
        done.set()
        resumer.join()
    assert heard == [True], on_cluster.inbox.messages()
    (notice,) = _notices(on_cluster, "approval needed", str(c.spec))
    assert "cutover run" in notice["body"] and "waits for an operator" in notice["body"]
    assert result_json(state)["outcome"] == "declined", state
    assert not c.lab.gateway.is_held(c.domains[0])
