"""The preflight flow on the lab: every user checked on both sides at once, never stopping
at the first bad login; sizes, limits and an estimated duration; nothing written anywhere."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from support.lab_mailbox import fill_source
from support.mail import connect, snapshot
from support.migrate_customer import CustomerFor
from support.prefect_api import latest_artifact
from typer.testing import CliRunner

from cli.main import app
from lab import Lab, LabUsers
from tasks.adapters import source_limit_name

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_two_wrong_passwords_are_both_named_the_rest_sized_and_nothing_written(
    lab: Lab, lab_users: LabUsers, customer_for: CustomerFor
) -> None:
    """Four users, one with a wrong old-server password and one with a wrong hosted password:
    exit 1 naming both (side and fix), the other two ok with messages, size, largest message,
    limits and an ETA; the report is an artifact and a CSV; no mailbox, folder, flag or state
    DB changed or appeared."""
    users = tuple(lab_users.new(max_message_bytes=300_000) for _ in range(4))
    for i, u in enumerate(users):
        fill_source(
            lab, u, {"INBOX": 30 + i, "Archive/2023": 10}, seed=20 + i, big={"INBOX": 400_000}
        )
    bad_source, bad_hosted = users[1], users[2]
    customer = customer_for(
        users,
        auth_mode="user",
        wrong_source_password_for=bad_source.email,
        wrong_password_for=bad_hosted.email,
    )
    before, hosted = {}, {}
    for u in users:
        with connect("127.0.0.1", lab.ports.source_imap, u.email, u.source_password) as c:
            before[u.email] = snapshot(c)
        with connect("127.0.0.1", lab.ports.destination_imap, u.email, u.destination_password) as c:
            hosted[u.email] = snapshot(c)  # the folders Dovecot creates at the first login

    result = CliRunner().invoke(app, ["preflight", str(customer.spec), "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert sorted(data["failed"]) == sorted([bad_source.email, bad_hosted.email])
    assert bad_source.email in data["message"] and bad_hosted.email in data["message"]
    rows = {r["mailbox"]: r for r in data["users"]}
    assert rows[bad_source.email]["status"] == "auth failed"
    assert rows[bad_source.email]["failed_side"] == "source"
    assert rows[bad_hosted.email]["status"] == "auth failed"
    assert rows[bad_hosted.email]["failed_side"] == "destination"
    assert all(rows[b.email]["fix"] for b in (bad_source, bad_hosted))
    assert rows[bad_hosted.email]["messages"] == 32 + 10 + 1  # the source side still sized
    for i in (0, 3):
        ok = rows[users[i].email]
        assert ok["ok"] and ok["status"] == "ok"
        assert ok["messages"] == 30 + i + 10 + 1 and ok["bytes"] > 400_000
        assert ok["largest_message"] > 400_000 and ok["too_big"] == 1  # over 300,000
        assert ok["fits_message_limit"] is False
        assert ok["sample_messages"] and ok["eta_seconds"] is not None and ok["eta_seconds"] > 0
        assert "UIDPLUS" in ok["source_capabilities"]
    assert data["eta_seconds"] is not None and data["eta_seconds"] > 0

    table = latest_artifact(f"preflight-{customer.slug}")
    cells = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert {c["mailbox"] for c in cells} == {u.email for u in users}
    assert next(c for c in cells if c["mailbox"] == users[0].email)["size"].endswith("KB")
    csv_rows = list(csv.DictReader((Path(data["run_folder"]) / "preflight.csv").open()))
    assert [r["mailbox"] for r in csv_rows] == [u.email for u in users]

    assert not customer.state_db().exists(), "preflight created the sync state"
    for u in users:
        with connect("127.0.0.1", lab.ports.source_imap, u.email, u.source_password) as c:
            assert snapshot(c) == before[u.email], "preflight changed the old mailbox"
        with connect("127.0.0.1", lab.ports.destination_imap, u.email, u.destination_password) as c:
            assert snapshot(c) == hosted[u.email], "preflight wrote to the hosted side"
    with get_client(sync_client=True) as client:
        cap = client.read_global_concurrency_limit_by_name(
            source_limit_name("127.0.0.1", lab.ports.source_imap)
        )
    assert cap.limit == 3 and cap.active_slots == 0  # the migrate cap, every slot given back

    text = CliRunner().invoke(app, ["preflight", str(customer.spec), "--users", users[0].email])
    assert text.exit_code == 0, text.output
    assert "1/1 user(s) ready" in text.output and "preflight" in text.output
