"""The migrate flow with UTF-8 passwords, and no password in anything a run wrote (issue 13):
logs, results, artifacts, run folder, state DB, Prefect's result storage and its database,
for a run that completes and for one that fails."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from support.flow_result import result_json
from support.lab_mailbox import fill_source
from support.mail import connect, fill, snapshot
from support.migrate_customer import Customer, CustomerFor, make_customer
from support.oauth import google_auth, microsoft_auth
from support.prefect_api import flow_run_texts, prefect_stored_texts

from flows.migrate import migrate
from lab import Lab, LabUser, LabUsers

pytestmark = pytest.mark.usefixtures("prefect_server")


def _umlaut_user(lab: Lab, lab_users: LabUsers) -> LabUser:
    """A fresh user whose hosted (destination) password is not ASCII."""
    user = lab_users.new()
    password = f"Zielpaßwort-{secrets.token_hex(4)}-ü"
    lab.destination.set_account(user.email, password)
    return LabUser(user.email, user.source_password, password)


def _forms(secret: str, *logins: str) -> set[str]:
    """A secret as text, as its reprs, and as the base64 AUTHENTICATE PLAIN response."""
    out = {secret, repr(secret)[1:-1], repr(secret.encode())[2:-1]}
    out |= {base64.b64encode(f"\0{login}\0{secret}".encode()).decode() for login in logins}
    return out


def _everything(customer: Customer, state: Any, caplog: pytest.LogCaptureFixture) -> list[str]:
    texts = [caplog.text, state.message or "", json.dumps(result_json(state), default=str)]
    texts += flow_run_texts(state.state_details.flow_run_id)
    for folder, _dirs, files in os.walk(customer.output_dir):  # reports and the state DB
        for name in files:
            texts.append((Path(folder) / name).read_bytes().decode("utf-8", "replace"))
    texts += prefect_stored_texts()
    return texts


def _assert_no_leak(texts: list[str], secrets_: dict[str, set[str]]) -> None:
    for name, forms in secrets_.items():
        leaks = [t[:80] for t in texts for f in forms if f in t]
        assert not leaks, f"{name} leaked into: {leaks}"


def test_utf8_master_and_destination_passwords_migrate_and_leak_nowhere(
    lab: Lab,
    lab_users: LabUsers,
    caplog: pytest.LogCaptureFixture,
    customer_for: CustomerFor,
) -> None:
    """A master password and hosted passwords with non-ASCII characters log in (AUTHENTICATE
    PLAIN), every message is copied, and no form of any password is in anything the run
    wrote, Prefect's result storage and database included."""
    caplog.set_level("DEBUG")
    users = (_umlaut_user(lab, lab_users), _umlaut_user(lab, lab_users))
    for i, u in enumerate(users):
        fill_source(lab, u, {"INBOX": 6, "Archiv/Äpfel": 3}, seed=20 + i)
    master = (f"ops{secrets.token_hex(3)}", f"Mästerschlüssel-{secrets.token_hex(4)}€")
    lab.source.add_master_user(*master)
    customer = customer_for(users, master=master)

    state = migrate(spec_path=customer.spec, return_state=True)
    data = result_json(state)
    assert state.is_completed(), state.message
    assert [m["copied"] for m in data["mailboxes"]] == [9, 9]
    for u in users:
        with connect("127.0.0.1", lab.ports.destination_imap, u.email, u.destination_password) as c:
            assert sum(len(v) for v in snapshot(c).values()) == 9

    texts = _everything(customer, state, caplog)
    assert any(f"sync {users[0].email}" in t for t in texts), "the scan must see the DB"
    logins = [f"{u.email}*{master[0]}" for u in users] + [u.email for u in users]
    found = {"master password": _forms(master[1], *logins)}
    for u in users:
        found[u.email] = _forms(u.destination_password, *logins) | _forms(u.source_password)
    _assert_no_leak(texts, found)


def test_a_failing_mailbox_fails_the_run_and_its_password_is_nowhere(
    lab: Lab,
    lab_users: LabUsers,
    caplog: pytest.LogCaptureFixture,
    customer_for: CustomerFor,
) -> None:
    """A mailbox whose hosted login fails (a wrong UTF-8 password) makes the run Failed;
    Prefect persists the failure, and neither that password nor the master password is in
    its storage, its database, the logs or the run folder."""
    caplog.set_level("DEBUG")
    ok, bad = lab_users.new(), lab_users.new()
    for i, u in enumerate((ok, bad)):
        fill_source(lab, u, {"INBOX": 4}, seed=30 + i)
    wrong = f"Falsch-{secrets.token_hex(4)}-ö"
    customer = customer_for((ok, bad), wrong_password_for=bad.email, wrong_password=wrong)

    state = migrate(spec_path=customer.spec, return_state=True)
    assert state.is_failed()
    by_mailbox = {m["mailbox"]: m for m in result_json(state)["mailboxes"]}
    assert by_mailbox[bad.email]["status"] == "Failed" and by_mailbox[ok.email]["copied"] == 4

    texts = _everything(customer, state, caplog)
    assert any("AuthFailed" in t for t in texts), "the scan must see the stored failure"
    logins = [bad.email, ok.email]
    _assert_no_leak(
        texts,
        {
            "the wrong password": _forms(wrong, *logins),
            "the master password": _forms(customer.master_password),
            "a user's password": _forms(ok.destination_password, *logins),
        },
    )


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.")


def test_microsoft365_client_secret_and_tokens_leak_nowhere_and_a_wrong_secret_fails_once(
    caplog: pytest.LogCaptureFixture, lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, lab: Lab,
) -> None:  # fmt: skip
    """An app-only Microsoft 365 migration copies every mailbox with XOAUTH2, and neither
    the client secret nor any token (a JWT) is in anything the run wrote; with a wrong
    secret the run fails once, before any mailbox, with the AADSTS sentence naming the
    Secret block, and nothing reaches the destination."""
    caplog.set_level("DEBUG")
    users = (lab_users.new(), lab_users.new())
    for i, u in enumerate(users):
        with connect("127.0.0.1", lab.ports.source_imap, u.email, u.source_password) as c:
            fill(c, {"INBOX": 5}, seed=40 + i)
    app = lab.idp.add_microsoft_app(lab_users.domain)
    auth = microsoft_auth(lab, app, monkeypatch, secret="not-the-secret")
    block = auth["client_secret_secret"]
    (tmp_path / "wrong").mkdir()
    wrong = make_customer(tmp_path / "wrong", lab, users, lab_users.domain, monkeypatch, auth=auth)
    failed = migrate(spec_path=wrong.spec, return_state=True)
    assert failed.is_failed()
    assert "AADSTS7000215" in (failed.message or "") and repr(block) in (failed.message or "")
    for u in users:
        with connect("127.0.0.1", lab.ports.destination_imap, u.email, u.destination_password) as c:
            assert sum(len(v) for v in snapshot(c).values()) == 0

    auth = microsoft_auth(lab, app, monkeypatch)
    customer = make_customer(tmp_path, lab, users, lab_users.domain, monkeypatch, auth=auth)
    state = migrate(spec_path=customer.spec, return_state=True)
    assert state.is_completed(), state.message
    assert [m["copied"] for m in result_json(state)["mailboxes"]] == [5, 5]
    texts = _everything(customer, state, caplog)
    _assert_no_leak(texts, {"client secret": _forms(app.client_secret)})
    assert not [t[:80] for t in texts if _JWT.search(t)], "an access token leaked"


def test_an_app_the_source_refuses_fails_the_run_once_before_any_mailbox(
    lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lab: Lab
) -> None:
    """A Microsoft 365 app whose tokens are granted but which has no access to these mailboxes
    (another tenant's app; likewise one without IMAP.AccessAsApp) fails the run once, with the
    server's refusal naming the Secret block and the fix, not once per mailbox; nothing
    reaches the destination."""
    users = (lab_users.new(), lab_users.new(), lab_users.new())
    for i, u in enumerate(users):
        with connect("127.0.0.1", lab.ports.source_imap, u.email, u.source_password) as c:
            fill(c, {"INBOX": 2}, seed=60 + i)
    app = lab.idp.add_microsoft_app(f"other-{lab_users.domain}")
    auth = microsoft_auth(lab, app, monkeypatch)
    customer = make_customer(tmp_path, lab, users, lab_users.domain, monkeypatch, auth=auth)
    failed = migrate(spec_path=customer.spec, return_state=True)
    assert failed.is_failed()
    message = failed.message or ""
    assert "refused a new Microsoft 365 token" in message, message
    assert repr(auth["client_secret_secret"]) in message and "IMAP.AccessAsApp" in message
    assert "mailbox(es)" not in message, message  # one sentence, not a per-mailbox summary
    for u in users:
        with connect("127.0.0.1", lab.ports.destination_imap, u.email, u.destination_password) as c:
            assert sum(len(v) for v in snapshot(c).values()) == 0


def test_google_migration_with_a_service_account_key_leaks_no_key(
    caplog: pytest.LogCaptureFixture, lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, lab: Lab,
) -> None:  # fmt: skip
    """A Google Workspace migration (service account, a token per user) copies every mailbox,
    and no line of the service account's private key, nor any token, is in what the run
    wrote."""
    caplog.set_level("DEBUG")
    users = (lab_users.new(), lab_users.new())
    for i, u in enumerate(users):
        with connect("127.0.0.1", lab.ports.source_imap, u.email, u.source_password) as c:
            fill(c, {"INBOX": 3}, seed=50 + i)
    auth = google_auth(lab, lab_users.domain, monkeypatch)
    customer = make_customer(tmp_path, lab, users, lab_users.domain, monkeypatch, auth=auth)
    state = migrate(spec_path=customer.spec, return_state=True)
    assert state.is_completed(), state.message
    assert [m["copied"] for m in result_json(state)["mailboxes"]] == [3, 3]
    env = "ONBOARD_SECRET_" + auth["service_account_secret"].upper().replace("-", "_")
    key = json.loads(os.environ[env])
    lines = [ln for ln in key["private_key"].splitlines() if not ln.startswith("-----")]
    texts = _everything(customer, state, caplog)
    _assert_no_leak(texts, {"service account key": set(lines) | {key["private_key_id"]}})
    assert not [t[:80] for t in texts if _JWT.search(t)], "an access token leaked"
