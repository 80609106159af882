"""The cutover flow on the lab: readiness gate, approval pause, hold → final sync → routing
switch → release, held mail delivered, idempotent re-runs, and no secret anywhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import flow, tags
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import pause_flow_run, resume_flow_run
from support.cutover_customer import (
    LabCustomer,
    assert_no_secrets,
    make_customer,
    panel,
    publish_plan,
    until,
)
from support.flow_result import result_json
from support.prefect_api import latest_artifact
from typer.testing import CliRunner

from cli.main import app
from cli.run import answer_pauses, runs_tag
from flows.cutover import cutover
from flows.provision import provision
from flows.verify import verify
from lab import Lab
from tasks.cutover import (
    FOLLOWUP_DEPLOYMENT,
    CutoverApproval,
    hold_all,
    schedule_catchups,
    schedule_followup,
)
from tasks.secrets import env_var_for
from validation.spec import load_spec

pytestmark = pytest.mark.usefixtures("prefect_server")
ROOT = Path(__file__).resolve().parents[2]
__all__ = ["make_customer", "panel"]  # fixtures used by name

Make = Callable[..., LabCustomer]


def _run(c: LabCustomer, **params: Any) -> tuple[Any, dict[str, Any]]:
    state = cutover(spec_path=c.spec, return_state=True, **params)
    return state, result_json(state)


def _route(lab: Lab, domain: str) -> str | None:
    return lab.gateway.route(domain)


def test_refuses_before_propagation_and_before_two_ttl_with_the_eta(make_customer: Make) -> None:
    """Nothing is held while DNS is unpublished (ETA unknown) or the 2×TTL wait is running
    (ETA = the time left); the control panel sees no write."""
    c = make_customer(ttl=300)
    c.reset_stats()
    state, data = _run(c, approved=True)
    assert state.is_failed() and state.name == "NotReady"
    assert data["readiness"]["eta_seconds"] is None and "ETA unknown" in state.message
    assert data["outcome"] == "not-ready" and data["steps"] == []

    publish_plan(c)
    state, data = _run(c, approved=True)
    assert state.name == "NotReady"
    (dom,) = data["readiness"]["domains"]
    assert dom["propagated"] and dom["mx_ttl"] == 300
    assert 590 <= data["readiness"]["eta_seconds"] <= 600, data["readiness"]
    assert "ETA 59" in state.message or "ETA 600" in state.message
    assert c.stats()["writes"] == 0
    assert not c.lab.gateway.is_held(c.domains[0])
    assert c.ledger()["dns_published_at"][c.domains[0]]


def test_crash_after_hold_rerun_delivers_held_mail_none_lost(make_customer: Make) -> None:
    """A run that died right after the hold left the domain held; mail sent meanwhile waits
    in the gateway. The re-run finishes without asking again: final sync, routing to the
    hosted mailboxes, release; every held message arrives there, none at the old server."""
    c = make_customer(migration=True, require_approval=True)
    user = next(iter(c.passwords))
    domain = c.domains[0]
    c.send(user, "before the cutover")
    assert until(lambda: c.subjects(user, hosted=False) == ["before the cutover"])

    hold_all.fn(load_spec(c.spec))  # the state a crash right after the hold leaves behind
    assert c.domain(domain)["hold_email"] and c.lab.gateway.is_held(domain)
    held = [f"sent while held {i}" for i in range(3)]
    for subject in held:
        c.send(user, subject)
    assert until(lambda: c.lab.gateway.held(domain) == 3)

    state, data = _run(c)  # require_approval, not approved: must not pause, must finish
    assert state.is_completed(), json.dumps(data, indent=1)
    assert data["approval"].startswith("a cutover was under way")
    steps = {(s["step"], s["changed"]) for s in data["steps"]}
    assert ("hold", False) in steps and ("release", True) in steps
    assert ("switch-routing", True) in steps
    assert data["final_sync"].startswith("completed")
    assert all(p["delivered"] for p in data["held_mail_probes"] + data["mail_flow_probes"])
    assert not c.domain(domain)["hold_email"] and not c.lab.gateway.is_held(domain)
    assert _route(c.lab, domain) == f"lmtp:inet:127.0.0.1:{c.lab.ports.destination_lmtp}"
    assert until(lambda: c.subjects(user) == sorted(["before the cutover", *held]))
    assert until(lambda: c.lab.gateway.queued(domain) == 0)
    assert c.subjects(user, hosted=False) == ["before the cutover"]


@flow(name="someone-elses-cutover")
def _someone_elses_pause() -> bool:
    """A run another operator started on the same server, paused for its own approval."""
    answer = pause_flow_run(wait_for_input=CutoverApproval, timeout=120, key="cutover-approval")
    return answer.yes


def test_full_cutover_with_approval_pause_then_rerun_changes_nothing(make_customer: Make) -> None:
    """From DNS published to mail flowing: the run pauses for approval, an operator resumes
    it (the question names the customer; another run paused on the same server is left
    alone), both domains are held, switched and released, and new mail goes to the hosted
    mailbox. A second run writes nothing to the control panel. No password or key leaks."""
    c = make_customer(domains=2, require_approval=True)
    publish_plan(c)
    asked: list[str] = []
    done = threading.Event()

    def operator(question: str) -> bool:  # the terminal prompt of `onboard cutover`
        asked.append(question)
        return True

    foreign: list[Any] = []
    other = threading.Thread(target=lambda: foreign.append(_someone_elses_pause(return_state=True)))
    other.start()
    tag = runs_tag()
    resumer = threading.Thread(target=answer_pauses, args=(tag, c.slug, done, operator))
    resumer.start()
    with tags(tag):
        state, data = _run(c, wait_seconds=30)
    done.set()
    resumer.join()
    assert asked == [
        f"{c.slug}: DNS is ready. Cut over now (hold, final sync, switch routing, release)?"
    ]
    with get_client(sync_client=True) as client:
        (theirs,) = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["someone-elses-cutover"])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
            ),
        )
    resume_flow_run(theirs.id, run_input={"decision": "decline", "notes": "their own operator"})
    other.join()
    assert foreign[0].is_completed() and foreign[0].result() is False
    assert state.is_completed(), json.dumps(data, indent=1)
    assert (
        data["approval"] == "approved when the paused run was resumed: answered on the command line"
    )
    assert data["readiness"]["ready"]
    changed = sorted((s["domain"], s["step"]) for s in data["steps"] if s["changed"])
    assert changed == sorted(
        (d, s) for d in c.domains for s in ("hold", "switch-routing", "release")
    )
    assert data["final_sync"].startswith("skipped")
    assert [p["delivered"] for p in data["mail_flow_probes"]] == [True, True]
    assert data["followup"]["scheduled_flow_run_id"] is None
    assert "onboard verify" in data["followup"]["how_to_run"]
    report = latest_artifact(f"cutover-{c.slug}")
    assert "Cutover of" in report.data and "completed" in report.data
    folder = Path(data["run_folder"])
    assert sorted(p.name for p in folder.iterdir()) == ["cutover.json", "cutover.md", "steps.csv"]

    for email in c.passwords:  # routing now delivers to the hosted mailboxes
        c.send(email, "after the cutover")
    for email in c.passwords:
        assert until(lambda e=email: c.subjects(e) == ["after the cutover"])  # type: ignore[misc]
        assert c.subjects(email, hosted=False) == []

    cutover_id = c.ledger()["cutover_id"]
    c.reset_stats()
    again, again_data = _run(c)
    assert again.is_completed() and again.name == "AlreadyCutOver", again.message
    assert again_data["steps"] == [] and again_data["outcome"] == "already-cut-over"
    assert c.stats()["writes"] == 0
    assert c.ledger()["cutover_id"] == cutover_id == again_data["cutover_id"]
    assert again_data["followup"]["due_at"] == data["followup"]["due_at"]  # one follow-up

    # The ledger gone (another output folder, say): refused, not a second cutover id.
    ledger = c.output_dir / c.slug / "cutover-ledger.json"
    ledger.rename(ledger.with_name("moved-ledger.json"))
    c.reset_stats()
    lost = cutover(spec_path=c.spec, return_state=True)
    error = lost.result(raise_on_failure=False)
    assert lost.is_failed() and "the cutover ledger is missing" in str(error)
    assert c.stats()["writes"] == 0 and not ledger.exists()

    assert_no_secrets(c, [state, again])


def test_followup_is_scheduled_once_per_cutover_under_a_deployment(
    make_customer: Make, tmp_path: Path
) -> None:
    """Under a deployment the follow-up verification is a scheduled run of
    ``verify/follow-up`` after_hours later; scheduling again for the same cutover (a re-run)
    returns the same run instead of a second one."""
    c = make_customer(provisioned=False)
    deployment_id = verify.to_deployment(name="follow-up").apply()
    assert FOLLOWUP_DEPLOYMENT == "verify/follow-up"
    completed_at = datetime.now(UTC)

    @flow
    def schedule_twice() -> tuple[Any, Any]:
        spec = load_spec(c.spec)
        first = schedule_followup(spec, "20261127T040000Z", True, completed_at)
        second = schedule_followup(spec, "20261127T040000Z", True, completed_at)
        return first, second

    first, second = schedule_twice()
    assert first.flow_run_id and first.flow_run_id == second.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(first.flow_run_id)
    assert run.deployment_id == deployment_id
    assert run.parameters == {"spec_path": str(c.spec), "followup": True}
    assert run.state_type == StateType.SCHEDULED
    due = completed_at + timedelta(hours=48)
    assert run.next_scheduled_start_time is not None
    assert abs((run.next_scheduled_start_time - due).total_seconds()) < 1


def test_cli_needs_an_answer_and_reports_not_ready_with_exit_1(make_customer: Make) -> None:
    """Without a terminal and without --yes nobody could approve: exit 2 before any flow. With
    --yes and DNS not published: exit 1 and the JSON report says not-ready, nothing held."""
    c = make_customer(ttl=300, require_approval=True)
    runner = CliRunner()
    for command in (["cutover", str(c.spec)], ["run", str(c.spec)]):
        refused = runner.invoke(app, command)
        assert refused.exit_code == 2, refused.output
        assert "--yes" in refused.output
    result = runner.invoke(app, ["cutover", str(c.spec), "--yes", "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["outcome"] == "not-ready" and data["readiness"]["eta_seconds"] is None
    assert not c.domain(c.domains[0])["hold_email"]


def test_sigkill_while_held_then_rerun_releases_and_delivers(make_customer: Make) -> None:
    """A real crash: ``onboard cutover`` is killed right after its hold took effect (slow
    control-panel writes keep it there). Mail keeps arriving into the hold; the re-run
    finishes the cutover without a second hold, and every held message is delivered."""
    from prefect.settings import PREFECT_API_URL

    c = make_customer()
    publish_plan(c)
    domain, user = c.domains[0], next(iter(c.passwords))
    slow = {"kind": "latency", "seconds": 2, "method": "PUT", "path_prefix": "/api/v1/domain/"}
    assert c.admin.post("/_lab/faults", json={"faults": [slow]}).status_code == 200
    try:
        env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "cutover", str(c.spec), "--yes", "--wait", "30"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert until(lambda: c.domain(domain)["hold_email"] or proc.poll() is not None, 90)
            assert proc.poll() is None, "the cutover ended before it could be killed"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        c.admin.delete("/_lab/faults")  # a failure above must not slow later tests
    # The panel commits the row, then applies the hold at the gateway: wait for the gateway,
    # since the mail sent next must be held there.
    assert until(lambda: c.lab.gateway.is_held(domain))
    assert c.domain(domain)["hold_email"]
    for n in range(2):
        c.send(user, f"during the outage {n}")
    assert until(lambda: c.lab.gateway.held(domain) >= 2)

    state, data = _run(c)
    assert state.is_completed(), json.dumps(data, indent=1)
    assert [(s["step"], s["changed"]) for s in data["steps"] if s["step"] == "hold"] == [
        ("hold", False)
    ]
    assert not c.domain(domain)["hold_email"] and not c.lab.gateway.is_held(domain)
    assert until(lambda: c.subjects(user) == ["during the outage 0", "during the outage 1"])
    assert c.subjects(user, hosted=False) == []


def test_failed_final_sync_keeps_the_hold_and_a_rerun_finishes(
    make_customer: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The final sync cannot log in to the old server: the run stops with every domain still
    held (mail queued, not lost, not routed half-way) and says to re-run; once fixed, the
    re-run completes without a second hold."""
    c = make_customer(migration=True)
    publish_plan(c)
    domain, user = c.domains[0], next(iter(c.passwords))
    master_env = env_var_for("src-" + c.slug.removeprefix("cutover-"))
    right = os.environ[master_env]
    monkeypatch.setenv(master_env, "not-the-master-password")
    state, data = _run(c, approved=True, wait_seconds=30)
    assert state.is_failed() and data["outcome"] == "failed", state.message
    assert data["final_sync"].startswith("failed") and "stay held" in data["message"]
    assert [s["step"] for s in data["steps"]] == ["hold"]
    assert c.domain(domain)["hold_email"] and c.lab.gateway.is_held(domain)
    c.send(user, "while the sync is being fixed")
    assert until(lambda: c.lab.gateway.held(domain) >= 1)

    monkeypatch.setenv(master_env, right)
    state, data = _run(c)
    assert state.is_completed(), json.dumps(data, indent=1)
    assert ("hold", False) in {(s["step"], s["changed"]) for s in data["steps"]}
    assert until(lambda: c.subjects(user) == ["while the sync is being fixed"])
    assert not c.lab.gateway.is_held(domain)


def test_a_user_added_after_the_cutover_is_provisioned(make_customer: Make) -> None:
    """Late additions: after the cutover the domain routes to the hosted mailboxes, and
    ``provision`` accepts that routing instead of calling it a conflict; it creates only the
    new user and their alias, and mail to the alias reaches the new hosted mailbox."""
    c = make_customer()
    publish_plan(c)
    state, data = _run(c, wait_seconds=30)
    assert state.is_completed(), json.dumps(data, indent=1)
    domain = c.domains[0]
    late = f"late@{domain}"
    c.passwords[late] = "Quartz-Falcon-2026!x"
    c.source_passwords[late] = "unused-source"
    with (c.spec.parent / "users.csv").open("a", newline="") as fh:
        fh.write(f"{late},{c.passwords[late]},team\n")
    c.reset_stats()
    done = provision(spec_path=c.spec, return_state=True)
    report = result_json(done)
    assert done.is_completed(), done.message
    (routing,) = [o for o in report["setup"] if o["kind"] == "routing"]
    assert routing["result"] == "already existed" and "since the cutover" in routing["detail"]
    assert report["accounts"]["created"] == 1 and report["accounts"]["logins_ok"] == 3
    assert report["aliases"]["created"] == 1
    assert c.stats()["writes"] == 2  # the new account and its alias, nothing else
    c.send(f"team@{domain}", "to the team alias")
    assert until(lambda: c.subjects(late) == ["to the team alias"])


def test_a_broken_test_account_blocks_the_approval_with_its_reason(make_customer: Make) -> None:
    """Before asking for approval the cutover proves the test account (the first user of each
    domain) works as a mail client: when its SMTP AUTH is refused the run ends NotReady with
    the account, the stage and the server's answer, asks nothing and holds nothing; once
    fixed, the same run passes the check (IMAP login, send on submission, receipt) and cuts
    over."""
    c = make_customer(require_approval=True)
    publish_plan(c)
    domain, (first, second) = c.domains[0], list(c.passwords)
    c.lab.destination.refuse_submission(first)
    try:
        c.reset_stats()
        state, data = _run(c, wait_seconds=30)  # require_approval and no answer: must not pause
    finally:
        c.lab.destination.refuse_submission(first, False)
    assert state.is_failed() and state.name == "NotReady", state.message
    assert data["outcome"] == "not-ready" and data["readiness"]["ready"]
    ((check),) = data["test_accounts"]
    assert check["email"] == first and not check["ok"] and check["stage"] == "submission"
    assert "SMTP AUTH refused (535" in check["error"]
    assert f"{first}: submission: " in state.message and "nothing held" in state.message
    assert data["steps"] == [] and data["approval"] is None
    assert c.stats()["writes"] == 0 and not c.lab.gateway.is_held(domain)
    assert second not in state.message  # only the test account was tried

    state, data = _run(c, approved=True, wait_seconds=30)
    assert state.is_completed(), json.dumps(data, indent=1)
    ((check),) = data["test_accounts"]
    assert check["ok"] and check["stage"] is None and check["seconds"] is not None
    assert c.subjects(first) == []  # the test message was found and removed
    assert_no_secrets(c, [state])


def test_named_test_account_not_in_the_user_list_is_a_reason(make_customer: Make) -> None:
    """``cutover.test_accounts`` naming an address that is not in the user list blocks the
    approval with a reason that names the spec field to fix."""
    c = make_customer()
    publish_plan(c)
    data_yaml = yaml.safe_load(c.spec.read_text())
    data_yaml["cutover"]["test_accounts"] = [next(iter(c.passwords)), f"ghost@{c.domains[0]}"]
    c.spec.write_text(yaml.safe_dump(data_yaml))
    state, data = _run(c, approved=True, wait_seconds=30)
    assert state.name == "NotReady", state.message
    oks = {t["email"]: t["ok"] for t in data["test_accounts"]}
    assert oks == {next(iter(c.passwords)): True, f"ghost@{c.domains[0]}": False}
    assert "fix cutover.test_accounts" in state.message
    assert not c.lab.gateway.is_held(c.domains[0])


def _notices(c: LabCustomer, email: str) -> dict[str, str]:
    """The notices in ``email``'s hosted INBOX: kind -> the whole message, decoded."""
    from email import message_from_bytes, policy

    from imapclient import IMAPClient

    with IMAPClient("127.0.0.1", port=c.lab.ports.destination_imap, ssl=False) as imap:
        imap.login(email, c.passwords[email])
        imap.select_folder("INBOX", readonly=True)
        found: dict[str, str] = {}
        for data in imap.fetch(
            imap.search(["HEADER", "X-MailRoute-Notice", ""]), ["RFC822"]
        ).values():
            msg = message_from_bytes(data[b"RFC822"], policy=policy.default)
            kind = str(msg["X-MailRoute-Notice"]).split()[0]
            assert kind not in found, f"two {kind} notices for {email}"
            found[kind] = f"Subject: {msg['Subject']}\n{msg.get_content()}"  # type: ignore[attr-defined]
        return found


def test_notices_reach_every_hosted_mailbox_once_and_a_rerun_sends_none(
    make_customer: Make,
) -> None:
    """With notices on (German): every user's hosted INBOX gets one notice before the cutover
    and one welcome after it, sent from the notice account through the submission service,
    with the new settings, the user's alias and support contacts, and no password. A re-run
    (already cut over) sends none; the record in the run folder is keyed by the cutover id."""
    c = make_customer(
        users=2,
        aliases=["team"],
        notices={"before_cutover": True, "welcome": True, "language": "de"},
    )
    publish_plan(c)
    state, data = _run(c, approved=True, wait_seconds=30)
    assert state.is_completed(), json.dumps(data, indent=1)
    sent = {n["kind"]: (n["sent"], n["already_sent"], n["failed"]) for n in data["notices"]}
    assert sent == {"before_cutover": (2, 0, 0), "welcome": (2, 0, 0)}
    first, second = list(c.passwords)
    for email in c.passwords:
        assert until(lambda e=email: len(_notices(c, e)) == 2)  # type: ignore[misc]
        got = _notices(c, email)
        assert "zieht zu MailRoute um" in got["before_cutover"]
        assert "Willkommen" in got["welcome"] and "support@mailroute.net" in got["welcome"]
        assert f"smtp.{c.ours}, Port 587, STARTTLS" in got["welcome"]
        assert not any(p in text for p in c.secrets() for text in got.values())
    assert f"team@{c.domains[0]}" in _notices(c, first)["welcome"]
    assert "team@" not in _notices(c, second)["welcome"]
    record = (c.output_dir / c.slug / "notices.jsonl").read_text()
    assert record.count(data["cutover_id"]) == 4

    again, again_data = _run(c)
    assert again.name == "AlreadyCutOver", again.message
    ((welcome),) = again_data["notices"]
    assert (welcome["kind"], welcome["sent"], welcome["already_sent"]) == ("welcome", 0, 2)
    assert all(len(_notices(c, e)) == 2 for e in c.passwords)
    assert_no_secrets(c, [state, again])


def _cli_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def test_a_known_bad_item_stops_before_the_hold_and_once_approved_the_cutover_completes(
    make_customer: Make,
) -> None:
    """The initial sync skipped a message (too big for max_message_bytes): the cutover stops
    before holding anything, naming the mailbox. The operator approves the known item
    (``migrate --approve-failed``); the table marks it approved, and the cutover then
    completes past it with the rest of the mail migrated."""
    c = make_customer(migration=True, migration_settings={"max_message_bytes": 20_000})
    user, domain = next(iter(c.passwords)), c.domains[0]
    c.append_to_old(user, "small old mail")
    c.append_to_old(user, "too big old mail", size=60_000)
    publish_plan(c)
    code, first = _cli_json("migrate", str(c.spec))
    assert code == 1 and first["problem_mailboxes"] == [user], first["message"]
    (item,) = first["failed_transfers"]
    assert item["approval"] == "new" and item["error_class"] == "TooBig"

    c.reset_stats()
    state, data = _run(c, approved=True, wait_seconds=30)
    assert state.is_failed() and data["steps"] == [], data["message"]
    assert data["message"].startswith("nothing held") and user in data["message"]
    assert c.stats()["writes"] == 0 and not c.lab.gateway.is_held(domain)

    code, approved = _cli_json("migrate", str(c.spec), "--pass", "incremental", "--approve-failed")
    assert code == 0, approved["message"]
    assert all(t["approval"] == "approved" for t in approved["failed_transfers"])
    table = latest_artifact(f"failed-transfers-{c.slug}")  # the customer's latest table
    cells = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert cells["mailbox"] == [user] and cells["approval"] == ["approved"], cells

    state, data = _run(c, approved=True, wait_seconds=30)
    assert state.is_completed(), json.dumps(data, indent=1)
    assert data["final_sync"].startswith("completed")
    assert until(lambda: "small old mail" in c.subjects(user))
    assert "too big old mail" not in c.subjects(user)


def test_a_new_bad_item_in_the_final_pass_releases_the_hold_with_the_reason(
    make_customer: Make,
) -> None:
    """A message too big to copy reaches the old server after the last pass, while the
    cutover holds the domains: the final pass stops on this new item, the hold is released
    with the reason and the routing left alone (mail flows to the old server as before, held
    mail included)."""
    c = make_customer(domains=2, migration=True, migration_settings={"max_message_bytes": 20_000})
    user = next(iter(c.passwords))
    c.append_to_old(user, "old mail")
    publish_plan(c)
    code, first = _cli_json("migrate", str(c.spec))
    assert code == 0, first["message"]
    # Slow control-panel writes: the second domain's hold comes seconds after the first's.
    slow = {"kind": "latency", "seconds": 2, "method": "PUT", "path_prefix": "/api/v1/domain/"}
    assert c.admin.post("/_lab/faults", json={"faults": [slow]}).status_code == 200
    arrived = threading.Event()

    def deliver_when_held() -> None:
        if until(lambda: c.lab.gateway.is_held(c.domains[0]), 90):
            c.append_to_old(user, "new big mail", size=60_000)
            arrived.set()

    watcher = threading.Thread(target=deliver_when_held)
    watcher.start()
    try:
        state, data = _run(c, approved=True, wait_seconds=30)
    finally:
        watcher.join()
        c.admin.delete("/_lab/faults")
    assert arrived.is_set()
    assert state.is_failed(), json.dumps(data, indent=1)
    assert "released" in data["message"] and user in data["message"]
    assert data["final_sync"].startswith("failed") and "failed-transfers-" in data["final_sync"]
    changed = sorted((s["step"], s["domain"]) for s in data["steps"] if s["changed"])
    assert changed == sorted((step, d) for d in c.domains for step in ("hold", "release"))
    for d in c.domains:
        assert not c.domain(d)["hold_email"] and not c.lab.gateway.is_held(d)
        assert _route(c.lab, d) != f"lmtp:inet:127.0.0.1:{c.lab.ports.destination_lmtp}"


def test_catchup_pass_after_the_switch_brings_late_mail_and_the_followup_reports_it(
    make_customer: Make,
) -> None:
    """The cutover schedules incremental passes (+1 h, +24 h) as runs of migrate/catch-up,
    once per cutover. Mail the old server gets after the switch reaches the hosted mailbox
    with the scheduled pass (run here as the worker would run it), and the follow-up
    verification reports what it brought."""
    c = make_customer(migration=True)
    user = next(iter(c.passwords))
    publish_plan(c)
    state, data = _run(c, approved=True, wait_seconds=30)
    assert state.is_completed(), json.dumps(data, indent=1)
    local = data["catchup_passes"]
    assert [p["scheduled_flow_run_id"] for p in local] == [None, None]
    assert all("--pass incremental" in p["how_to_run"] for p in local)

    from flows.migrate import migrate

    deployment_id = migrate.to_deployment(name="catch-up").apply()

    @flow
    def schedule_twice() -> tuple[Any, Any]:
        spec = load_spec(c.spec)
        done = datetime.now(UTC)
        return (
            schedule_catchups(spec, c.ledger()["cutover_id"], True, done),
            schedule_catchups(spec, c.ledger()["cutover_id"], True, done),
        )

    first, second = schedule_twice()
    assert [p.flow_run_id for p in first] == [p.flow_run_id for p in second]
    with get_client(sync_client=True) as client:
        runs = [client.read_flow_run(p.flow_run_id) for p in first]
    assert {r.deployment_id for r in runs} == {deployment_id}
    assert all(r.state_type == StateType.SCHEDULED for r in runs)

    c.append_to_old(user, "late mail to the old server")
    parameters = runs[0].parameters
    assert parameters == {"spec_path": str(c.spec), "pass_kind": "incremental"}
    caught = migrate(**parameters, return_state=True)
    assert caught.is_completed(), caught.message
    assert "late mail to the old server" in c.subjects(user)

    checked = verify(spec_path=c.spec, followup=True, return_state=True)
    report = result_json(checked)
    (catchup,) = report["catchup_passes"]
    assert catchup["mailboxes"] == {user: 1}
    assert any("brought 1 message(s)" in n and user in n for n in report["notes"])


def test_dns_check_propagation_starts_the_ttl_clock(make_customer: Make) -> None:
    """``dns-check --propagation`` records when the new records were first seen published;
    a later cutover counts the 2×TTL wait from then, not from its own first check."""
    from flows.dns_check import dns_check

    c = make_customer(ttl=300)
    publish_plan(c)
    checked = dns_check(spec_path=c.spec, propagation=True, return_state=True)
    assert result_json(checked)["propagated"], checked.message
    seen = c.ledger()["dns_published_at"][c.domains[0]]
    state, data = _run(c, approved=True)
    assert state.name == "NotReady"
    (dom,) = data["readiness"]["domains"]
    assert dom["dns_changed_at"] == seen
    assert c.ledger()["dns_published_at"][c.domains[0]] == seen
