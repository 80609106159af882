"""The migrate flow against the lab's two Dovecots: counts reconcile, re-runs copy nothing,
failures are reported with a fix, a source restart is absorbed by the task's retry, and no
password reaches Prefect or the run folder."""

from __future__ import annotations

import csv
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterStartTime,
    TaskRunFilter,
    TaskRunFilterFlowRunId,
)
from prefect.concurrency.sync import concurrency
from support.faultproxy import FaultProxy
from support.flow_result import result_json
from support.lab_mailbox import fill_source
from support.mail import connect, snapshot
from support.migrate_customer import Customer, CustomerFor
from support.poll import until
from support.prefect_api import flow_run_texts, latest_artifact, prefect_stored_texts
from typer.testing import CliRunner

from cli.main import app
from flows.migrate import migrate, watch_progress
from lab import Lab, LabUser, LabUsers
from tasks.adapters import mailbox_jobs, source_limit_name
from tasks.customer import load_customer

pytestmark = pytest.mark.usefixtures("prefect_server")


def _src(lab: Lab, user: LabUser) -> Any:
    return connect("127.0.0.1", lab.ports.source_imap, user.email, user.source_password)


def _dst(lab: Lab, user: LabUser) -> Any:
    return connect("127.0.0.1", lab.ports.destination_imap, user.email, user.destination_password)


def _run(customer: Customer, **params: Any) -> tuple[Any, dict[str, Any]]:
    state = migrate(spec_path=customer.spec, return_state=True, **params)
    return state, result_json(state)


def _run_watched(customer: Customer, listener: Any) -> tuple[Any, dict[str, Any]]:
    """:func:`_run` with ``listener`` hearing the run's progress events (in this thread)."""
    with watch_progress(listener):
        return _run(customer)


@pytest.fixture
def two_users(lab: Lab, lab_users: LabUsers) -> tuple[LabUser, LabUser]:
    """Two fresh users with a small varied corpus on the source."""
    a, b = lab_users.new(), lab_users.new()
    fill_source(lab, a, {"INBOX": 40, "Archive/2023": 25, "Sent": 10}, seed=1)
    fill_source(lab, b, {"INBOX": 30, "Projects/Alpha": 12}, seed=2)
    return a, b


@pytest.fixture
def customer(two_users: tuple[LabUser, LabUser], customer_for: CustomerFor) -> Customer:
    """The two users' customer with the default migration settings (master login)."""
    return customer_for(two_users)


def test_migrate_copies_everything_then_a_rerun_copies_nothing(
    lab: Lab, two_users: tuple[LabUser, LabUser], customer: Customer
) -> None:
    """I1-I6 at flow level: everything copied with bytes, flags and INTERNALDATE; the source
    is untouched; counts reconcile; the second run copies 0 and still ends Completed."""
    before = {}
    for u in two_users:
        with _src(lab, u) as c:
            before[u.email] = snapshot(c)

    state, data = _run(customer, pass_kind="initial")
    assert state.is_completed(), state.message
    assert data["ok"] is True
    assert data["totals"]["copied"] == 40 + 25 + 10 + 30 + 12
    assert data["totals"]["failed"] == 0
    assert data["equation"].endswith("→ reconciles")
    for u in two_users:
        with _src(lab, u) as c:
            assert snapshot(c) == before[u.email], "the source changed (I6)"
        with _dst(lab, u) as c:
            after = snapshot(c)
        for folder, msgs in before[u.email].items():
            if not msgs:
                continue
            mapped = folder.replace("/", ".")  # the lab's destination uses "." as separator
            got = sorted((m.sha256, m.flags, m.internaldate) for m in after[mapped])
            want = sorted((m.sha256, m.flags, m.internaldate) for m in msgs)
            assert got == want, f"{u.email} {folder} differs"

    progress = latest_artifact(f"migration-progress-{customer.slug}")
    assert float(progress.data) == 100.0 and "2/2 mailboxes" in progress.description
    summary = latest_artifact(f"migration-summary-{customer.slug}")
    assert "reconciles" in summary.data and two_users[0].email in summary.data
    run_folder = Path(data["run_folder"])
    assert {p.name for p in run_folder.iterdir()} == {
        "summary.md",
        "mailboxes.csv",
        "failed-transfers.csv",
        "report.json",
    }
    rows = list(csv.DictReader((run_folder / "mailboxes.csv").open()))
    assert {r["mailbox"] for r in rows} == {u.email for u in two_users}
    assert all(r["reconciles"] == "True" for r in rows)

    state2, again = _run(customer, pass_kind="incremental")
    assert state2.is_completed() and state2.name == "NothingToSync"
    assert again["totals"]["copied"] == 0
    assert again["totals"]["already_present"] == data["totals"]["copied"]
    assert again["equation"].endswith("→ reconciles")

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(
            source_limit_name("127.0.0.1", lab.ports.source_imap)
        )
    assert limit.limit == 3  # connections_per_source_host


def test_user_mode_logs_in_with_each_users_source_password(
    two_users: tuple[LabUser, LabUser],
    monkeypatch: pytest.MonkeyPatch,
    customer_for: CustomerFor,
) -> None:
    """auth mode "user": every mailbox logs in to the source with its own CSV password, and
    none of those passwords shows up in the artifacts or the run folder."""
    customer = customer_for(two_users, auth_mode="user")
    monkeypatch.delenv(customer.secret_env)  # no master password available at all
    state, data = _run(customer)
    assert state.is_completed(), state.message
    assert data["totals"]["copied"] == 117
    with get_client(sync_client=True) as client:
        artifacts = json.dumps([a.model_dump(mode="json") for a in client.read_artifacts()])
    files = " ".join(p.read_text(errors="replace") for p in Path(data["run_folder"]).iterdir())
    for u in two_users:
        assert u.source_password not in artifacts and u.source_password not in files


def test_failed_transfers_are_reported_and_the_flow_ends_failed(
    lab: Lab, lab_users: LabUsers, customer_for: CustomerFor
) -> None:
    """A message the destination refuses (too big) and a mailbox whose login fails both land
    in failed-transfers-<slug> with reason and fix; the rest is copied; the run is Failed."""
    small = lab_users.new(max_message_bytes=200_000)
    locked = lab_users.new()
    fill_source(lab, small, {"INBOX": 20}, big={"INBOX": 400_000}, seed=3)
    fill_source(lab, locked, {"INBOX": 5}, seed=4)
    customer = customer_for(
        (small, locked),
        wrong_password_for=locked.email,
    )

    state, data = _run(customer)
    assert state.is_failed()
    by_mailbox = {m["mailbox"]: m for m in data["mailboxes"]}
    assert by_mailbox[small.email]["copied"] == 20
    assert by_mailbox[small.email]["failed"] + by_mailbox[small.email]["skipped"] == 1
    assert by_mailbox[small.email]["reconciles"] is True
    assert by_mailbox[locked.email]["status"] == "Failed"

    table = latest_artifact(f"failed-transfers-{customer.slug}")
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    if isinstance(rows, dict):  # dict of columns
        rows = [dict(zip(rows, vals, strict=True)) for vals in zip(*rows.values(), strict=True)]
    big = next(r for r in rows if r["mailbox"] == small.email)
    assert big["folder"] == "INBOX" and big["size"].endswith(" KB")  # human-readable
    assert big["reason"] and big["fix"] and big["error_class"]
    assert list(rows[0])[:4] == ["mailbox", "folder", "reason", "fix"]  # what to do, first
    assert big["approval"] == "new"
    (item,) = [t for t in data["failed_transfers"] if t["mailbox"] == small.email]
    assert int(item["size"]) > 400_000
    assert small.email in state.message and locked.email in state.message
    assert f"failed-transfers-{customer.slug}" in state.message  # the table is named/linked
    login = next(r for r in rows if r["mailbox"] == locked.email)
    assert login["outcome"] == "mailbox-failed" and login["error_class"] == "AuthFailed"
    assert "1 attempt" in login["reason"], "a wrong password must not be retried"
    assert "password" in login["fix"]
    csv_rows = list(csv.DictReader((Path(data["run_folder"]) / "failed-transfers.csv").open()))
    assert len(csv_rows) == len(rows)


def test_source_restart_mid_sync_is_completed_by_the_task_retry(
    lab: Lab, lab_users: LabUsers, customer_for: CustomerFor
) -> None:
    """The source goes down mid-copy (restarted; connections refused meanwhile): the engine
    gives up, Prefect retries the task, and the retry completes the mailbox with no
    duplicate."""
    user = lab_users.new()
    total = fill_source(lab, user, {"INBOX": 1500, "Archive": 500}, seed=5)
    with FaultProxy(("127.0.0.1", lab.ports.source_imap)) as proxy:
        customer = customer_for(
            (user,),
            source_port=proxy.port,
            reconnect_retries=1,
            task_retries=4,
        )
        started = threading.Event()

        def on_tick(event: object) -> None:
            if getattr(event, "messages_done", 0) > 0:
                started.set()

        outcome: dict[str, Any] = {}
        runner = threading.Thread(target=lambda: outcome.update(r=_run_watched(customer, on_tick)))
        try:
            runner.start()
            assert started.wait(120), "the sync never started copying"
            proxy.refuse(True)
            proxy.drop_all()
            lab.restart("source")
            retrying = {"AwaitingRetry", "Retrying"}
            assert until(lambda: _task_states(customer) & retrying, 60), "the task never retried"
            proxy.refuse(False)
            runner.join(180)
        finally:
            proxy.refuse(False)
    assert not runner.is_alive()
    state, data = outcome["r"]
    assert state.is_completed(), state.message
    (row,) = data["mailboxes"]
    assert _sync_attempts(customer) >= 2, "the task's own retry should have finished the mailbox"
    assert row["copied"] + row["already_present"] == total
    with _src(lab, user) as c:
        want = snapshot(c)
    with _dst(lab, user) as c:
        got = snapshot(c)
    for folder in ("INBOX", "Archive"):
        assert sorted(m.sha256 for m in got[folder]) == sorted(m.sha256 for m in want[folder])


def test_a_pair_held_by_another_worker_waits_for_it(
    lab: Lab, lab_users: LabUsers, customer_for: CustomerFor
) -> None:
    """I10: while another worker holds the pair's concurrency slot, this run's task waits and
    copies nothing; once the slot is free it completes."""
    user = lab_users.new()
    fill_source(lab, user, {"INBOX": 10}, seed=8)
    customer = customer_for((user,))
    state, _ = _run(customer)  # creates the limits, copies the 10
    assert state.is_completed()
    fill_source(lab, user, {"INBOX": 3}, seed=9)
    loaded = load_customer(customer.spec)
    (job,) = mailbox_jobs(loaded.spec, loaded.users)
    outcome: dict[str, Any] = {}
    with concurrency(job.pair_limit, strict=True):
        runner = threading.Thread(target=lambda: outcome.update(r=_run(customer)))
        runner.start()
        assert until(lambda: "Running" in _task_states(customer, "sync "), 60), "never ran"
        runner.join(3)  # the task is waiting for the slot, so the run cannot finish
        assert runner.is_alive()
        with _dst(lab, user) as c:
            assert len(snapshot(c)["INBOX"]) == 10, "copied while another worker held the pair"
    runner.join(120)
    state, data = outcome["r"]
    assert state.is_completed()
    assert data["totals"]["copied"] == 3


def _flow_runs(client: Any, customer: Customer, limit: int = 20) -> list[Any]:
    """The customer's recent migrate flow runs, newest first (matched by spec path).

    Only started runs: a run scheduled in the future (another test's 48 h follow-up) would
    sort first by start time and push this customer's runs out of the page."""
    runs = client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=["migrate"])),
        flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(is_null_=False)),
        sort="START_TIME_DESC",
        limit=limit,
    )
    return [r for r in runs if str(customer.spec) in json.dumps(r.parameters, default=str)]


def _task_runs(client: Any, run_id: Any) -> list[Any]:
    return list(
        client.read_task_runs(
            task_run_filter=TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=[run_id]))
        )
    )


def _task_states(customer: Customer, prefix: str = "") -> set[str]:
    """State names of the task runs of this customer's recent migrate flow runs."""
    with get_client(sync_client=True) as client:
        return {
            t.state.name
            for run in _flow_runs(client, customer)
            for t in _task_runs(client, run.id)
            if t.state is not None and t.name.startswith(prefix)
        }


def _sync_attempts(customer: Customer) -> int:
    """run_count of the customer's sync task run (1 = no Prefect retry)."""
    with get_client(sync_client=True) as client:
        tasks = _task_runs(client, _flow_runs(client, customer)[0].id)
    return max(t.run_count for t in tasks if t.name.startswith("sync "))


def test_dry_run_prints_the_plan_and_writes_nothing(
    lab: Lab, two_users: tuple[LabUser, LabUser], customer: Customer
) -> None:
    """--dry-run: folder map with counts on stdout; no state DB, run folder or artifact."""
    with get_client(sync_client=True) as client:
        before = len(client.read_artifacts())
    result = CliRunner().invoke(
        app, ["migrate", str(customer.spec), "--dry-run", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["dry_run"] is True
    boxes = {m["mailbox"]: m for m in plan["mailboxes"]}
    assert boxes[two_users[0].email]["messages"] == 75
    folders = {f["source"]: f for f in boxes[two_users[0].email]["folders"]}
    assert folders["INBOX"]["action"] == "copy" and folders["INBOX"]["messages"] == 40
    assert not customer.output_dir.exists(), "dry run wrote files"
    with get_client(sync_client=True) as client:
        assert len(client.read_artifacts()) == before
    with _dst(lab, two_users[0]) as c:
        assert sum(len(v) for v in snapshot(c).values()) == 0

    text = CliRunner().invoke(app, ["migrate", str(customer.spec), "--dry-run"])
    assert text.exit_code == 0
    assert "Archive/2023" in text.stdout and "nothing was written" in text.stdout


def test_cli_reports_unusable_input_with_exit_2(tmp_path: Path, customer: Customer) -> None:
    """An address not in the CSV, or a missing spec, is one sentence and exit code 2."""
    result = CliRunner().invoke(app, ["migrate", str(customer.spec), "--users", "nobody@else.test"])
    assert result.exit_code == 2
    assert "nobody@else.test not in the user list" in result.output
    missing = CliRunner().invoke(app, ["migrate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_cli_json_run_selected_users_and_no_secret_anywhere(
    lab: Lab, two_users: tuple[LabUser, LabUser], customer: Customer
) -> None:
    """`onboard migrate --users a --format json` syncs only a; no password (master, users')
    appears in logs, artifacts, flow parameters, run-folder files or the state DB."""
    a, b = two_users
    result = CliRunner().invoke(
        app, ["migrate", str(customer.spec), "--users", a.email, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["message"]
    assert [m["mailbox"] for m in data["mailboxes"]] == [a.email]
    with _dst(lab, b) as c:
        assert sum(len(v) for v in snapshot(c).values()) == 0
    text = CliRunner().invoke(app, ["migrate", str(customer.spec), "--users", b.email])
    assert text.exit_code == 0, text.output
    assert "mailboxes" in text.output and "messages" in text.output  # the live display
    assert "in scope 42 = copied 42" in text.output and "reports: " in text.output

    secrets_ = {customer.master_password} | {
        p for u in two_users for p in (u.source_password, u.destination_password)
    }
    everything = [result.stdout, result.output, text.output]
    with get_client(sync_client=True) as client:
        mine = _flow_runs(client, customer, limit=20)
        assert len(mine) == 2
        for run in mine:
            everything += [t.name for t in _task_runs(client, run.id)]
        everything += [json.dumps(a.model_dump(mode="json")) for a in client.read_artifacts()]
    for run in mine:
        everything += flow_run_texts(run.id)  # parameters, logs, artifacts
    assert any(a.email in text for text in everything), "the check must see the run's output"
    for root, _dirs, files in os.walk(customer.output_dir):
        for name in files:
            everything.append((Path(root) / name).read_bytes().decode("utf-8", "replace"))
    assert customer.state_db().exists()
    everything += prefect_stored_texts()  # result storage (decoded) and the API's database
    for secret in secrets_:
        leaks = [text[:80] for text in everything if secret in text]
        assert not leaks, f"a password leaked into: {leaks}"


def _cli_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def test_since_prestages_the_newest_mail_then_a_pass_without_it_copies_the_rest(
    lab: Lab, lab_users: LabUsers, customer_for: CustomerFor
) -> None:
    """``--since``: only mail dated from that day is copied (the rest is deferred, not a
    failure); the next pass without the window copies the older mail; the final pass
    refuses a window (it must copy everything)."""
    user = lab_users.new()
    fill_source(lab, user, {"INBOX": 40}, seed=30)  # dated 2023-01-01 + 7 h × n, n = 1..40
    customer = customer_for((user,))
    code, first = _cli_json("migrate", str(customer.spec), "--since", "2023-01-06")
    assert code == 0, first["message"]
    assert first["totals"]["copied"] == 23 and first["totals"]["deferred"] == 17
    assert first["failed_transfers"] == [] and first["equation"].endswith("later pass)")
    with _dst(lab, user) as c:
        dates = [m.internaldate for m in snapshot(c)["INBOX"]]
    assert len(dates) == 23  # the newest: every one dated from the 6th
    assert min(d.astimezone(UTC) for d in dates) >= datetime(2023, 1, 6, tzinfo=UTC)

    code, rest = _cli_json("migrate", str(customer.spec), "--pass", "incremental")
    assert code == 0, rest["message"]
    assert rest["totals"]["copied"] == 17 and rest["totals"]["deferred"] == 0
    with _dst(lab, user) as c:
        assert len(snapshot(c)["INBOX"]) == 40

    refused = CliRunner().invoke(
        app, ["migrate", str(customer.spec), "--pass", "final", "--since", "2023-01-06"]
    )
    assert refused.exit_code == 2 and "--pass final" in refused.output


def test_the_byte_budget_never_applies_to_the_final_pass(
    lab: Lab, lab_users: LabUsers, customer_for: CustomerFor
) -> None:
    """With a 1 MB budget per pass, an incremental pass leaves mail for later; the final
    pass (delivery held) copies all of it."""
    user = lab_users.new()
    big = {"INBOX": 700_000, "Archive": 700_000, "Sent": 700_000}
    fill_source(lab, user, {"INBOX": 1, "Archive": 1, "Sent": 1}, seed=31, big=big)
    customer = customer_for((user,), byte_budget_per_pass_mb=1)
    state, partial = _run(customer, pass_kind="incremental")
    assert state.is_completed(), state.message
    assert partial["totals"]["deferred"] >= 1
    state, final = _run(customer, pass_kind="final")
    assert state.is_completed(), state.message
    assert final["totals"]["deferred"] == 0
    assert final["totals"]["copied"] + partial["totals"]["copied"] == 6


def test_a_partial_rerun_adds_to_the_customers_latest_table(
    lab: Lab, lab_users: LabUsers, customer_for: CustomerFor
) -> None:
    """Both mailboxes have an item in the failed-transfers table; re-running one of them
    (``--users``) replaces only its rows: the other's stay, and each task run that left a
    new item is not green (a Failed-type state named SyncedWithErrors)."""
    a, b = lab_users.new(), lab_users.new()
    for i, u in enumerate((a, b)):
        fill_source(lab, u, {"INBOX": 3}, seed=40 + i, big={"INBOX": 50_000})
    customer = customer_for((a, b), max_message_bytes=20_000)
    state, first = _run(customer)
    assert state.is_failed() and sorted(first["problem_mailboxes"]) == sorted([a.email, b.email])
    assert {"SyncedWithErrors"} == _task_states(customer, "sync ")
    state, again = _run(customer, users=[a.email], pass_kind="incremental")
    assert [m["mailbox"] for m in again["mailboxes"]] == [a.email]
    table = latest_artifact(f"failed-transfers-{customer.slug}")
    cells = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert sorted(cells["mailbox"]) == sorted([a.email, b.email]), cells
    rows = list(csv.DictReader((Path(again["run_folder"]) / "failed-transfers.csv").open()))
    assert sorted(r["mailbox"] for r in rows) == sorted([a.email, b.email])
    assert all(r["size"].endswith("KB") and int(r["size_bytes"]) > 50_000 for r in rows)


def test_sigterm_gives_the_slots_back_and_the_next_run_completes(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, customer_for: CustomerFor
) -> None:
    """``onboard migrate`` stopped with SIGTERM mid-copy (one source connection allowed):
    its source and pair slots and the customer's migrate slot are free at once, and the next
    run finishes the mailbox instead of waiting for them."""
    import signal
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    user = lab_users.new()
    total = fill_source(lab, user, {"INBOX": 400}, seed=50)
    with FaultProxy(("127.0.0.1", lab.ports.source_imap)) as proxy:
        proxy.set_latency(upstream=0.02, downstream=0.02)
        customer = customer_for(
            (user,),
            source_port=proxy.port,
            connections_per_source_host=1,
            slot_wait_seconds=120,
        )
        limit = source_limit_name("127.0.0.1", proxy.port)
        env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
        root = Path(__file__).resolve().parents[2]
        log = tmp_path / "migrate.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "migrate", str(customer.spec)],
                cwd=root,
                env={**env, "ONBOARD_PREFECT_VERBOSE": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            started = until(lambda: _active_slots(limit) == 1 or proc.poll() is not None, 240)
            tail = log.read_text(errors="replace")[-3000:]
            assert started and proc.poll() is None, f"never stopped mid-copy:\n{tail}"
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        assert _active_slots(limit) == 0, "a stopped run kept its slot"
        customer_limit = f"customer-{customer.slug}-migrate"
        assert _active_slots(customer_limit) == 0, "a stopped run kept its customer's slot"
        state, _ = _run(customer)
    assert state.is_completed(), state.message
    with _dst(lab, user) as c:
        assert len(snapshot(c)["INBOX"]) == total


def _active_slots(name: str) -> int:
    with get_client(sync_client=True) as client:
        try:
            return int(client.read_global_concurrency_limit_by_name(name).active_slots)
        except Exception:
            return -1
