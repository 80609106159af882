"""The validate-users flow through a real Prefect server: reports land, passwords never do."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pytest
import yaml

from flows.results import result_of
from flows.validate_users import validate_users
from tasks.validate_users import REPORT_CSV, REPORT_MARKDOWN
from validation.csv_reader import UserListError
from validation.users import UserListReport

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme" / "customer.yaml"
T = TypeVar("T")


def _until(what: str, probe: Callable[[], T | None], deadline_s: float = 30.0) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def _customer(tmp_path: Path, name: str, csv_text: str) -> Path:
    """Write a customer.yaml (the example, renamed, reports under tmp) and its users.csv."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data.update(customer=name, users_csv="users.csv", output_dir=str(tmp_path / "runs"))
    spec_path = tmp_path / "customer.yaml"
    spec_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "users.csv").write_text(csv_text, encoding="utf-8")
    return spec_path


def _strong() -> str:
    return "Kq7!" + secrets.token_urlsafe(12)


def _flow_run_record(flow_run_id: UUID, *, tasks: int = 2) -> dict[str, Any]:
    """Everything the Prefect API holds about a flow run: run, logs, artifacts, task runs
    (once ``tasks`` task runs are final)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10, at_exit=False)
    EventsWorker.drain_all(timeout=10, at_exit=False)  # the server records task runs from events
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)

        def finished_logs() -> list[Any] | None:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
            return logs if any("Finished in state" in log.message for log in logs) else None

        logs = _until("the flow run's logs", finished_logs)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )

        def finished_task_runs() -> list[Any] | None:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            final = len(runs) >= tasks and all(t.state and t.state.is_final() for t in runs)
            return runs if final else None

        task_runs = _until(
            f"the flow run's {tasks} task run(s) in a final state", finished_task_runs
        )
    return {"run": run, "logs": logs, "artifacts": artifacts, "task_runs": task_runs}


def _database_bytes() -> bytes:
    """The raw bytes of the test server's SQLite database (and its WAL), events included."""
    from prefect.settings import get_current_settings

    url = str(get_current_settings().server.database.connection_url.get_secret_value())  # type: ignore[union-attr]
    db = Path(url.split(":///", 1)[1])
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_passwords_never_leave_the_task(prefect_server: str, tmp_path: Path) -> None:
    """Known passwords appear in no log, artifact, parameter, task state, report file or DB row."""
    good = [_strong() for _ in range(3)]
    source = [_strong() for _ in range(2)]
    weak = "zq" + secrets.token_hex(3)  # too short, one kind: a row with a problem
    spaced = _strong() + " "  # surrounding whitespace: a problem whose cell is a password
    csv_text = (
        "email,password,source_username,source_password\n"
        f"ann.lee@acme.test,{good[0]},,{source[0]}\n"
        f"bo.kim@acme.test,{good[1]},bkim,{source[1]}\n"
        f"cy.ng@acme-mail.test,{good[2]},,\n"
        f"di.ox@acme.test,{weak},,\n"
        f"ed.fu@acme.test,{spaced},,\n"
    )
    known = [*good, *source, weak, spaced.strip()]
    spec_path = _customer(tmp_path, "Secret Test Co", csv_text)

    state = validate_users(spec_path, return_state=True)
    report = result_of(state).report

    assert state.is_failed() and isinstance(report, UserListReport)
    assert (report.rows, report.valid_rows, report.invalid_rows) == (5, 3, 2)
    assert {p.row for p in report.problems} == {5, 6}
    assert [u.has_source_credentials for u in report.users] == [True, True, False]

    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    record = _flow_run_record(flow_run_id)
    run = record["run"]
    assert run.parameters == {"spec_path": str(spec_path), "users_csv": None}
    keys = {a.key for a in record["artifacts"]}
    assert keys == {"user-validation-secret-test-co", "user-validation-summary-secret-test-co"}
    table = next(a for a in record["artifacts"] if a.type == "table")
    assert '"row": 5' in str(table.data) and '"value": "********"' in str(table.data)
    assert {t.name.rsplit("-", 1)[0] for t in record["task_runs"]} == {
        "check-user-list",
        "publish-user-validation",
    }

    files = sorted(p for p in (tmp_path / "runs").rglob("*") if p.is_file())
    assert {p.name for p in files} == {REPORT_CSV, REPORT_MARKDOWN}
    assert report.run_folder and Path(report.run_folder) == files[0].parent

    places: dict[str, str] = {
        "flow run (parameters, state)": run.model_dump_json(),
        "logs": "\n".join(log.message for log in record["logs"]),
        "artifacts": "\n".join(a.model_dump_json() for a in record["artifacts"]),
        "task runs (states, results)": "\n".join(t.model_dump_json() for t in record["task_runs"]),
        "returned report": repr(report) + repr(list(report.problems)) + repr(list(report.users)),
        **{f"run folder file {p.name}": p.read_text(encoding="utf-8") for p in files},
    }
    for where, text in places.items():
        for password in known:
            assert password not in text, f"a password leaked into the {where}"
    assert all(t.state.data is None for t in record["task_runs"]), "no task result persisted"

    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=10, at_exit=False)
    db = _database_bytes()
    assert str(flow_run_id).encode() in db or flow_run_id.hex.encode() in db, "right database"
    for password in known:
        assert password.encode() not in db, "a password reached the Prefect database"


def test_valid_list_completes_with_users(prefect_server: str, tmp_path: Path) -> None:
    """A clean list ends Completed and returns the users (no passwords) for later flows."""
    csv_text = "email,password\n" + "".join(f"user{i}@acme.test,{_strong()}\n" for i in range(3))
    spec_path = _customer(tmp_path, "Clean Co", csv_text)
    state = validate_users(spec_path, return_state=True)
    assert state.is_completed()
    report = state.result().report
    assert isinstance(report, UserListReport) and report.valid
    assert [u.email for u in report.users] == [f"user{i}@acme.test" for i in range(3)]
    assert report.run_folder and (Path(report.run_folder) / REPORT_CSV).exists()


def test_users_csv_override_and_unusable_file(prefect_server: str, tmp_path: Path) -> None:
    """users_csv overrides the spec's file; an unusable file fails the run with its sentence."""
    spec_path = _customer(tmp_path, "Override Co", "email,password\n")
    other = tmp_path / "other.csv"
    other.write_text("email;password\nx@acme.test;Kq7!abcdefgh\n", encoding="utf-8")
    state = validate_users(spec_path, other, return_state=True)
    assert state.is_failed()
    error = result_of(state)
    assert isinstance(error, UserListError) and "semicolon-delimited" in str(error)
    assert error.path == other


def test_report_csv_escapes_formulas(prefect_server: str, tmp_path: Path) -> None:
    """A cell a spreadsheet would run as a formula is written with a leading quote."""
    import csv

    spec_path = _customer(tmp_path, "Formula Co", f"email,password\n=1+1@gmail.com,{_strong()}\n")
    state = validate_users(spec_path, return_state=True)
    report = result_of(state).report
    assert isinstance(report, UserListReport) and report.run_folder
    with (Path(report.run_folder) / REPORT_CSV).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["row"], r["column"], r["value"]) for r in rows] == [
        ("2", "email", "'=1+1@gmail.com")
    ]


def test_users_csv_parameter_outside_the_customer_folder_is_refused(
    prefect_server: str, tmp_path: Path
) -> None:
    """The deployment parameter users_csv cannot read another file (/etc/passwd): the run
    fails with the sentence and nothing of the file reaches the run's record."""
    spec_path = _customer(tmp_path, "Passwd Co", "email,password\n")
    state = validate_users(spec_path, Path("/etc/passwd"), return_state=True)
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, UserListError) and "outside the customer's folder" in str(error)
    record = _flow_run_record(state.state_details.flow_run_id, tasks=1)
    assert "root:x:" not in repr(record)
    assert b"root:x:" not in _database_bytes()
