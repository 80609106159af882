"""``onboard status [SPEC]`` reads where a customer stands from the Prefect API, and
``onboard resume RUN approve|decline`` answers a paused run from the command line."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import flow
from prefect.flow_runs import pause_flow_run
from support.customer_files import write_customer_files
from typer.testing import CliRunner

from cli.main import app
from tasks.cutover import CutoverApproval

pytestmark = pytest.mark.usefixtures("prefect_server")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme"


def _customer(folder: Path, *, name: str, bad_csv: bool = False) -> Path:
    folder.mkdir()
    data = yaml.safe_load((EXAMPLE / "customer.yaml").read_text(encoding="utf-8"))
    data |= {"customer": name, "output_dir": "runs", "users_csv": "users.csv"}
    email = "jane@gmail.com" if bad_csv else "jane@acme.test"
    rows = [["email", "password"], [email, "Tr7!kd9Lqw"]]
    return write_customer_files(folder, data, rows)


def _json(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_status_names_done_phases_open_issues_and_the_next_step(tmp_path: Path) -> None:
    """After a valid list: validate is done, provision never ran and is next. A customer
    whose list is bad: validate's failed run is an open issue and the next step says to fix
    it. Without a spec, one line per customer."""
    good = _customer(tmp_path / "good", name="Status Good Co")
    bad = _customer(tmp_path / "bad", name="Status Bad Co", bad_csv=True)
    assert CliRunner().invoke(app, ["validate", str(good)]).exit_code == 0
    assert CliRunner().invoke(app, ["validate", str(bad)]).exit_code == 1

    code, data = _json("status", str(good))
    assert code == 0 and data["customer"] == "Status Good Co"
    phases = {p["phase"]: p for p in data["phases"]}
    assert phases["validate"]["done"] and phases["validate"]["last_run"]["state"] == "Completed"
    assert phases["provision"] == {"phase": "provision", "done": False, "last_run": None}
    assert data["open_issues"] == [] and data["next_step"] == f"onboard provision {good}"

    code, data = _json("status", str(bad))
    assert not data["phases"][0]["done"]
    assert len(data["open_issues"]) == 1 and data["open_issues"][0].startswith("validate: ")
    assert "1 invalid" in data["open_issues"][0]
    assert "user-validation-status-bad-co" in data["open_issues"][0]  # where the rows are
    assert data["next_step"].startswith("validate did not complete")

    code, listing = _json("status")
    assert code == 0
    lines = {c["customer"]: c for c in listing["customers"]}
    assert lines["Status Good Co"]["done"] == ["validate"]
    assert lines["Status Bad Co"]["done"] == []


@flow(name="resume-me")
def _paused() -> tuple[bool, str]:
    """A run paused for a cutover approval, as ``cutover`` pauses."""
    answer = pause_flow_run(wait_for_input=CutoverApproval, timeout=120, key="cutover-approval")
    return answer.yes, answer.notes


def _start_paused() -> tuple[threading.Thread, list[Any], str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    states: list[Any] = []
    worker = threading.Thread(target=lambda: states.append(_paused(return_state=True)))
    worker.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["resume-me"])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                ),
            )
        if runs:
            return worker, states, str(runs[0].id)
        worker.join(0.2)
    raise AssertionError("the run never paused")


@pytest.mark.parametrize(("answer", "approved"), [("approve", True), ("decline", False)])
def test_resume_answers_a_paused_run(answer: str, approved: bool) -> None:
    """``resume RUN approve|decline`` resumes the paused run with that answer and notes; the
    run then finishes with it. Resuming it again (no longer paused) is one sentence, exit 2."""
    worker, states, run_id = _start_paused()
    code, data = _json("resume", run_id, answer, "--notes", "checked with the customer")
    worker.join(60)
    assert code == 0 and data["answer"] == answer, data
    assert data["question"].startswith("DNS is ready. Cut over now")
    assert states[0].is_completed()
    assert states[0].result() == (approved, "checked with the customer")
    again = CliRunner().invoke(app, ["resume", run_id, answer])
    assert again.exit_code == 2 and "not paused" in again.stderr


def test_resume_needs_an_explicit_answer_and_a_known_run() -> None:
    """No answer is a usage error (nothing is declined by default); an unknown run is one
    sentence and exit 2."""
    missing = CliRunner().invoke(app, ["resume", "some-run"])
    assert missing.exit_code == 2
    unknown = CliRunner().invoke(app, ["resume", "no-such-run-name", "approve"])
    assert unknown.exit_code == 2 and "no flow run 'no-such-run-name'" in unknown.stderr
