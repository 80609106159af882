"""A flow run reads its customer once: one ``migrate`` run of 22 mailboxes parses the spec's
YAML once and validates the user CSV once (issue 9), however many tasks it runs, and the
passwords never become a task parameter."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterFlowRunId
from support.flow_result import result_json
from support.lab_mailbox import fill_source
from support.migrate_customer import CustomerFor
from support.poll import until

from flows.migrate import migrate
from lab import Lab, LabUsers

pytestmark = pytest.mark.usefixtures("prefect_server")

MAILBOXES = 22


def test_one_migrate_run_of_22_mailboxes_reads_the_spec_and_the_csv_once(
    lab: Lab,
    lab_users: LabUsers,
    caplog: pytest.LogCaptureFixture,
    customer_for: CustomerFor,
) -> None:
    """22 sync tasks, yet 1 YAML parse and 1 CSV validation; every mailbox is copied."""
    users = tuple(lab_users.new() for _ in range(MAILBOXES))
    for i, user in enumerate(users):
        fill_source(lab, user, {"INBOX": 2}, seed=100 + i)
    customer = customer_for(users)

    with caplog.at_level(logging.DEBUG, logger="validation"):
        state = migrate(spec_path=customer.spec, return_state=True)
    data = result_json(state)

    assert state.is_completed(), state.message
    assert data["totals"]["copied"] == 2 * MAILBOXES
    reads = [r.getMessage() for r in caplog.records if r.name == "validation.spec"]
    checks = [r.getMessage() for r in caplog.records if r.name == "validation.users"]
    assert reads == [f"reading the customer spec {customer.spec}"]
    assert len(checks) == 1 and f"({MAILBOXES} rows)" in checks[0]

    def syncs() -> list[Any]:
        # Prefect records task runs from events, a moment after they ran.
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(
                task_run_filter=TaskRunFilter(
                    flow_run_id=TaskRunFilterFlowRunId(any_=[state.state_details.flow_run_id])
                )
            )
        return [t for t in runs if t.name.startswith("sync ")]

    assert until(lambda: len(syncs()) == MAILBOXES, 30)
    assert all("password" not in str(t.task_inputs) for t in syncs())
