"""Issue 11: a customer's nightly incremental schedule is made by ``migrate`` after the
initial pass, survives ``prefect deploy``, is updated (not doubled) by another initial pass,
and is removed by the cutover's step; no schedule points at the example any more."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from support.checkout import ROOT, run_in_checkout
from support.flow_result import result_json
from support.mail import connect, fill
from support.migrate_customer import make_customer

from flows.migrate import migrate
from lab import Lab, LabUsers
from tasks.schedules import NIGHTLY_DEPLOYMENT, remove_nightly, slug_for
from validation.spec import load_spec

pytestmark = pytest.mark.usefixtures("prefect_server")


def _deploy() -> None:
    """``prefect deploy`` of the nightly deployment, as ops run it, against this server."""
    from prefect.settings import PREFECT_API_URL

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool("onboarding")
        except Exception:
            client.create_work_pool(WorkPoolCreate(name="onboarding", type="process"))
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "ONBOARDING_HOME": str(ROOT),
    }
    done = run_in_checkout(
        [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--name", "nightly-incremental"],
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def _schedules() -> list[object]:
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(NIGHTLY_DEPLOYMENT)
        return list(client.read_deployment_schedules(deployment.id))


def test_the_initial_pass_schedules_the_customer_and_a_deploy_keeps_it(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a successful initial pass the nightly deployment has one active schedule of the
    customer's (its spec, pass incremental); `prefect deploy` again keeps it; a second
    initial pass updates it (still one); the cutover's step removes it."""
    user = lab_users.new()
    with connect("127.0.0.1", lab.ports.source_imap, user.email, user.source_password) as c:
        fill(c, {"INBOX": 2}, seed=7)
    customer = make_customer(tmp_path, lab, (user,), lab_users.domain, monkeypatch)
    spec = load_spec(customer.spec)
    _deploy()
    assert not [s for s in _schedules() if "examples/acme" in str(s.parameters)]  # type: ignore[attr-defined]

    state = migrate(spec_path=customer.spec, return_state=True)
    assert state.is_completed(), state.message
    assert "created" in result_json(state)["nightly_schedule"]
    (mine,) = [s for s in _schedules() if s.slug == slug_for(spec)]  # type: ignore[attr-defined]
    assert mine.active and mine.parameters == {  # type: ignore[attr-defined]
        "spec_path": str(customer.spec.resolve()),
        "pass_kind": "incremental",
    }

    _deploy()  # a redeploy must not wipe what the flow made
    assert [s.id for s in _schedules() if s.slug == slug_for(spec)] == [mine.id]  # type: ignore[attr-defined]

    again = migrate(spec_path=customer.spec, return_state=True)
    assert "updated" in result_json(again)["nightly_schedule"]
    assert len([s for s in _schedules() if s.slug == slug_for(spec)]) == 1  # type: ignore[attr-defined]

    assert remove_nightly(spec) is True
    assert not [s for s in _schedules() if s.slug == slug_for(spec)]  # type: ignore[attr-defined]
