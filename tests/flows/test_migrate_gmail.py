"""The migrate flow on a Gmail-shaped source: the rules of docs/gmail.md reach the report."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from support.flow_result import result_json
from support.migrate_customer import make_customer
from support.oauth import google_auth
from support.prefect_api import latest_artifact
from typer.testing import CliRunner

from cli.main import app
from flows.migrate import migrate
from lab import Lab, LabUsers
from lab.gmail_corpus import GMAIL_EXPECTED

pytestmark = pytest.mark.usefixtures("prefect_server")

# The customer spec's migration.source.auth.mode: "google" (a service account with domain-wide
# delegation, a token per user, AUTHENTICATE XOAUTH2, as Google Workspace requires) and "user"
# (each user's own password: a Gmail account with an app password).
AUTH_MODES = ("google", "user")
ARCHIVED = GMAIL_EXPECTED["Archive"]


@pytest.mark.parametrize("auth_mode", AUTH_MODES)
def test_google_style_migrate_reports_all_mail_starred_and_important(
    tmp_path: Path,
    lab: Lab,
    lab_users: LabUsers,
    monkeypatch: pytest.MonkeyPatch,
    auth_mode: str,
) -> None:
    """Two Gmail mailboxes: every message copied by the rules (44 each, nothing doubled), the
    summary artifact, mailboxes.csv and the flow result say what became of All Mail, Starred
    and Important, and so does `onboard migrate`; the incremental re-run copies 0."""
    users = (lab_users.new(), lab_users.new())
    lab.seed("gmail", users=[u.email for u in users])
    auth = google_auth(lab, lab_users.domain, monkeypatch) if auth_mode == "google" else None
    customer = make_customer(
        tmp_path, lab, users, lab_users.domain, monkeypatch, auth_mode=auth_mode, auth=auth
    )
    total = sum(GMAIL_EXPECTED.values())

    def run(**params: Any) -> dict[str, Any]:
        state = migrate(spec_path=customer.spec, return_state=True, **params)
        assert state.is_completed(), state.message
        return result_json(state)

    data = run()
    assert data["totals"]["copied"] == 2 * total and data["totals"]["failed"] == 0
    assert data["equation"].endswith("→ reconciles")
    line = (
        f"All Mail 36: 30 in label folders (not copied again), {ARCHIVED} only there → Archive; "
        "Starred 6: \\Flagged on their copies, not a folder; Important 7: not a folder"
    )
    assert all(line in row["gmail"] for row in data["mailboxes"])
    summary = latest_artifact(f"migration-summary-{customer.slug}")
    assert all(f"{u.email}: Gmail" in summary.data for u in users) and line in summary.data
    rows = list(csv.DictReader((Path(data["run_folder"]) / "mailboxes.csv").open()))
    assert len(rows) == 2 and all(line in r["gmail"] for r in rows)

    again = run(pass_kind="incremental")
    assert again["totals"]["copied"] == 0
    assert again["totals"]["already_present"] == 2 * total
    assert all(line in row["gmail"] for row in again["mailboxes"])
    text = CliRunner().invoke(app, ["migrate", str(customer.spec), "--pass", "incremental"])
    assert text.exit_code == 0, text.output
    flat = " ".join(text.output.split())  # the console wraps long lines
    assert all(f"{u.email}: Gmail" in flat for u in users) and "All Mail 36: 30" in flat
