"""The automations ``python -m deployments --automations`` creates (built without a server)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from deployments.__main__ import main
from deployments.automations import PREFIX, automations


def test_four_automations_notify_the_target_and_one_crashes_silent_runs() -> None:
    """Approval, failure and follow-up notices go to the one block; the zombie automation marks
    a run Crashed when no heartbeat came within ``zombie_after``."""
    block = uuid4()
    made = automations(block, zombie_after=timedelta(seconds=90))
    assert [a.name.removeprefix(PREFIX + " ") for a in made] == [
        "approval needed",
        "migrate or cutover failed",
        "follow-up found open issues",
        "crash flow runs whose heartbeats stopped",
    ]
    *notices, zombie = made
    for a in notices:
        (action,) = a.actions
        assert action.type == "send-notification" and action.block_document_id == block
        assert "flow_run.parameters" in action.body  # the notice names the customer's spec
    assert "prefect.flow-run.Paused" in notices[0].trigger.expect
    (crash,) = zombie.actions
    assert crash.type == "change-flow-run-state" and crash.state.value == "CRASHED"
    assert zombie.trigger.within == timedelta(seconds=90)


def test_automations_need_a_server_and_a_target(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without PREFECT_API_URL, or without --notify-block / --notify-webhook, nothing is
    created and the command exits 2 saying what to set."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert main(["--automations", "--notify-block", "slack-webhook/ops"]) == 2
    assert "set PREFECT_API_URL" in capsys.readouterr().err
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert main(["--automations"]) == 2
    assert "--notify-block or --notify-webhook" in capsys.readouterr().err
