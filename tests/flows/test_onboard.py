"""The onboard flow chains every phase on the lab and completes only if each one did; a
re-run after the cutover skips the set-up phases and changes nothing."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from imapclient import IMAPClient
from prefect.states import State
from support.cutover_customer import LabCustomer, make_customer, panel, publish_plan, until
from support.flow_result import result_json

from flows.onboard import onboard

pytestmark = pytest.mark.usefixtures("prefect_server")
__all__ = ["make_customer", "panel"]  # fixtures used by name


def _onboard(c: LabCustomer, *, dns_wait_seconds: float) -> tuple[State[Any], dict[str, Any]]:
    """The onboard flow on ``c``, DNS change confirmed and cutover approved up front: its final
    state and the JSON of its result."""
    state = onboard(
        spec_path=c.spec, approved=True, dns_wait_seconds=dns_wait_seconds, return_state=True
    )
    return state, result_json(state)


def _phases(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Each phase of an onboard result and the state it ended in, in run order."""
    return [(r["phase"], r["state"]) for r in data["phases"]]


def test_onboard_runs_every_phase_then_reruns_without_changes(
    make_customer: Callable[..., LabCustomer],
) -> None:
    """From nothing in the control panel to verified: validate, provision, initial sync,
    DNS plan, (DNS confirmed and cutover approved up front) cutover, verify."""
    c = make_customer(provisioned=False, migration=True)
    publish_plan(c)  # the customer publishes the records the plan asks for (DKIM key kept)
    user = sorted(c.passwords)[0]
    with IMAPClient("127.0.0.1", port=c.lab.ports.source_imap, ssl=False, timeout=10) as imap:
        imap.login(user, c.source_passwords[user])  # mail already on the old server
        imap.append("INBOX", b"From: a@example.test\r\nSubject: old mail\r\n\r\nold\r\n")
    state, data = _onboard(c, dns_wait_seconds=30)
    assert state.is_completed(), json.dumps(data, indent=1)
    assert _phases(data) == [
        ("validate-users", "Completed"),
        ("provision", "Completed"),
        ("preflight", "Completed"),
        ("migrate", "Completed"),
        ("dns-plan", "Completed"),
        ("client-guides", "Completed"),
        ("confirm-dns-change", "Skipped"),
        ("cutover", "Completed"),
        ("verify", "Completed"),
    ]
    assert c.subjects(user) == ["old mail"]  # migrated; probes were removed once found
    c.send(user, "new mail")
    assert until(lambda: c.subjects(user) == ["new mail", "old mail"])

    c.reset_stats()
    again, data = _onboard(c, dns_wait_seconds=0)
    assert again.is_completed(), data["phases"]
    assert _phases(data) == [
        ("validate-users, provision, preflight, migrate, dns-plan, client-guides", "Skipped"),
        ("cutover", "AlreadyCutOver"),
        ("verify", "Completed"),
    ]
    assert c.stats()["writes"] == 0


def test_a_new_domain_is_hosted_from_the_start_never_held_or_migrated(
    make_customer: Callable[..., LabCustomer],
) -> None:
    """One domain with mail on the old server, one new domain without ``mail_servers``: its
    DNS plan removes nothing, provision routes it to the hosted mailboxes from the start, and
    the whole onboarding (approved up front) never holds, migrates or switches it, while a
    watcher samples its gateway route and hold throughout; the existing domain is cut over
    as usual, and mail to both ends up in the hosted mailboxes."""
    c = make_customer(provisioned=False, migration=True, new_domains=1)
    old, new = c.domains
    plan = publish_plan(c)
    (new_plan,) = [d for d in plan["domains"] if d["domain"] == new]
    assert [ch for ch in new_plan["changes"] if ch["action"] == "remove"] == []
    hosted = f"lmtp:inet:127.0.0.1:{c.lab.ports.destination_lmtp}"
    seen: set[tuple[bool, str | None]] = set()
    done = threading.Event()

    def watch() -> None:  # a witness of the new domain's state during the run
        while not done.is_set():
            seen.add((c.lab.gateway.is_held(new), c.lab.gateway.route(new)))
            done.wait(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        state, data = _onboard(c, dns_wait_seconds=30)
    finally:
        done.set()
        watcher.join()
    assert state.is_completed(), json.dumps(data, indent=1)
    assert seen <= {(False, None), (False, hosted)} and (False, hosted) in seen, seen
    assert not c.domain(new)["hold_email"]

    runs = c.output_dir / c.slug
    (cut,) = [json.loads(p.read_text()) for p in runs.glob("*-cutover/cutover.json")]
    assert cut["new_domains"] == [new]
    assert {s["domain"] for s in cut["steps"]} == {old}
    assert {s["domain"] for s in cut["before"]} == {old}
    passes = sorted(runs.glob("*-migrate/mailboxes.csv"))
    assert len(passes) == 2  # the initial sync and the cutover's final one
    for migration in passes:
        with migration.open() as fh:
            mailboxes = {row["mailbox"] for row in csv.DictReader(fh)}
        assert mailboxes == {e for e in c.passwords if e.endswith("@" + old)}

    for email in c.passwords:
        c.send(email, "after onboarding")
    for email in c.passwords:
        assert until(lambda e=email: "after onboarding" in c.subjects(e))  # type: ignore[misc]


def test_onboard_stops_at_preflight_before_copying_anything(
    make_customer: Callable[..., LabCustomer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old server refuses the migration login: the run stops at preflight, naming every
    user, before the initial sync copies a message or the DNS plan and cutover run."""
    from tasks.secrets import env_var_for

    c = make_customer(provisioned=False, migration=True)
    monkeypatch.setenv(env_var_for("src-" + c.slug.removeprefix("cutover-")), "wrong-master")
    state, data = _onboard(c, dns_wait_seconds=0)
    assert state.is_failed(), json.dumps(data, indent=1)
    assert _phases(data) == [
        ("validate-users", "Completed"),
        ("provision", "Completed"),
        ("preflight", "Failed"),
    ]
    assert all(email in data["message"] for email in c.passwords)
    assert not (c.output_dir / c.slug / "mailsync-state.db").exists()
