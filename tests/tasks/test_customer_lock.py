"""Per-customer concurrency on the test session's Prefect server (issue 11): two customers
migrate and cut over at the same time; the same customer's second run is refused at once,
naming the run that holds the slot; the slot is given back when the run ends."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run
from prefect.input import keyset_from_paused_state, read_flow_run_input
from support.cutover_customer import LabCustomer, make_customer, panel, publish_plan
from support.flow_result import result_json
from support.mail import connect, fill
from support.migrate_customer import Customer
from support.migrate_customer import make_customer as make_migrate_customer
from support.poll import until

from flows.cutover import cutover
from flows.migrate import migrate, watch_progress
from lab import Lab, LabUsers
from onboarding.mailsync import SyncProgress
from tasks.customer_lock import limit_name
from validation.spec import load_spec

pytestmark = pytest.mark.usefixtures("prefect_server")
__all__ = ["make_customer", "panel"]  # fixtures used by name


def _runs_tagged(tag: str) -> list[Any]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag]))
        )


def _free_slots(limit: str) -> int:
    with get_client(sync_client=True) as client:
        found = client.read_global_concurrency_limit_by_name(limit)
        return found.limit - found.active_slots


def _migrate_customer(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, mp: pytest.MonkeyPatch, name: str
) -> Customer:
    user = lab_users.new()
    with connect("127.0.0.1", lab.ports.source_imap, user.email, user.source_password) as c:
        fill(c, {"INBOX": 3}, seed=len(name))
    folder = tmp_path / name
    folder.mkdir()
    return make_migrate_customer(folder, lab, (user,), lab_users.domain, mp)


@contextmanager
def _migrating(customer: Customer) -> Iterator[Callable[[], Any]]:
    """Customer's migrate runs in a thread, stopped at its first engine tick (holding its
    slot) until the block ends; yields a function giving that run's final state."""
    started, go = threading.Event(), threading.Event()
    states: list[Any] = []
    mailbox = customer.users[0].email

    def listener(event: object) -> None:
        if isinstance(event, SyncProgress) and event.mailbox == mailbox:
            started.set()
            go.wait(120)

    def run() -> None:
        with watch_progress(listener):  # listeners are per context: this thread's
            states.append(migrate(spec_path=customer.spec, return_state=True))

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert started.wait(120), "the first migrate never reached its sync"
        yield lambda: states[0]
    finally:
        go.set()
        thread.join(120)


def test_two_customers_migrate_at_the_same_time(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While customer A's migrate holds its slot mid-sync, customer B's migrate runs to the
    end; then A finishes too: both Completed, and both slots are free again."""
    a = _migrate_customer(tmp_path, lab, lab_users, monkeypatch, "a")
    b = _migrate_customer(tmp_path, lab, lab_users, monkeypatch, "b")
    with _migrating(a) as a_state:
        b_state = migrate(spec_path=b.spec, return_state=True)
        assert b_state.is_completed(), result_json(b_state)["message"]
        assert _free_slots(limit_name(a.slug, "migrate")) == 0  # A still holds its own
    assert a_state().is_completed(), result_json(a_state())["message"]
    assert result_json(a_state())["totals"]["copied"] == 3
    assert result_json(b_state)["totals"]["copied"] == 3
    for c in (a, b):
        assert _free_slots(limit_name(c.slug, "migrate")) == 1


def test_the_same_customers_second_migrate_is_refused_naming_the_holder(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second migrate of a customer whose migrate runs is refused at once (not queued):
    Failed "CustomerBusy", copying nothing, its message naming the holder's run name, id
    and state; the holder is unaffected and a migrate after it ends runs."""
    a = _migrate_customer(tmp_path, lab, lab_users, monkeypatch, "a")
    with _migrating(a) as a_state:
        (holder,) = _runs_tagged(f"holds:{limit_name(a.slug, 'migrate')}")
        started = datetime.now(UTC)
        second = migrate(spec_path=a.spec, pass_kind="incremental", return_state=True)
        refused_in = (datetime.now(UTC) - started).total_seconds()
        data = result_json(second)
    assert second.is_failed() and second.name == "CustomerBusy", second
    assert f"run {holder.name!r} ({holder.id}, Running)" in data["message"], data["message"]
    assert data["limit"] == f"customer-{a.slug}-migrate"
    assert refused_in < 15, refused_in  # refused, not queued behind the holder
    assert a_state().is_completed()
    assert result_json(a_state())["totals"]["copied"] == 3
    again = migrate(spec_path=a.spec, pass_kind="incremental", return_state=True)
    assert again.is_completed() and again.name == "NothingToSync", again.message
    assert f"customer:{a.slug}" in _runs_tagged(f"customer:{a.slug}")[0].tags


def _paused(c: LabCustomer) -> Any:
    for run in _runs_tagged(f"holds:{limit_name(c.slug, 'cutover')}"):
        if run.state and run.state.type is StateType.PAUSED:
            return run
    return None


def _form(run: Any) -> tuple[dict[str, Any], str]:
    """The Resume form a paused run shows: its JSON schema and its description."""
    keyset = keyset_from_paused_state(run.state)
    schema = read_flow_run_input(keyset["schema"], flow_run_id=run.id)
    description = read_flow_run_input(keyset["description"], flow_run_id=run.id)
    return schema, str(description)


def test_a_cutover_paused_for_approval_blocks_only_its_own_customer(
    make_customer: Callable[..., LabCustomer],
) -> None:
    """Customer A's cutover waits for approval; meanwhile customer B's cutover completes,
    and A's second cutover is refused naming A's paused run. A's form names A (name and
    slug) and has a required approve/decline choice with no default. A declined, its slot
    is free."""
    a = make_customer(require_approval=True)
    b = make_customer()
    publish_plan(a)
    publish_plan(b)
    states: list[Any] = []
    thread = threading.Thread(
        target=lambda: states.append(cutover(spec_path=a.spec, wait_seconds=30, return_state=True))
    )
    thread.start()
    try:
        assert until(lambda: _paused(a) is not None, timeout=90), "A never paused"
        schema, description = _form(_paused(a))
        assert f"{load_spec(a.spec).customer} (`{a.slug}`)" in description, description
        assert "decision" in schema["required"], schema
        assert "default" not in schema["properties"]["decision"], schema
        b_state = cutover(spec_path=b.spec, approved=True, wait_seconds=30, return_state=True)
        assert b_state.is_completed(), result_json(b_state)["message"]
        assert b.lab.gateway.route(b.domains[0]) is not None
        second = cutover(spec_path=a.spec, approved=True, return_state=True)
        held_by = _paused(a)
        assert second.is_failed() and second.name == "CustomerBusy", second
        assert f"run {held_by.name!r} ({held_by.id}, Paused)" in second.message, second.message
    finally:
        paused = _paused(a)
        if paused is not None:
            resume_flow_run(paused.id, run_input={"decision": "decline", "notes": "test over"})
        thread.join(120)
    assert states and states[0].name == "Declined", states
    assert _free_slots(limit_name(a.slug, "cutover")) == 1
