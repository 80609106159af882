"""Issue 10 through the migrate flow: a daily byte cap pauses a mailbox without failing the
run, and a source whose certificate is not verified is a warning in the result."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.flow_result import result_json
from support.mail import connect, fill
from support.migrate_customer import make_customer
from support.tls_proxy import tls_front

from flows.migrate import migrate
from lab import Lab, LabUsers

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_a_capped_mailbox_is_paused_and_an_unverified_source_is_warned_about(
    tmp_path: Path, lab: Lab, lab_users: LabUsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``daily_download_mb: 1``: the mailbox over it ends Paused with "resumes at HH:MM UTC",
    the other one Synced, and the run completes (counts reconcile); ``tls_verify: false``
    to a self-signed TLS source is named in the result's warnings and message."""
    big, small = lab_users.new(), lab_users.new()
    for user, sizes in ((big, {"INBOX": 1_500_000, "Archive": 1_500_000}), (small, None)):
        with connect("127.0.0.1", lab.ports.source_imap, user.email, user.source_password) as c:
            fill(c, {"INBOX": 10, "Archive": 10}, big=sizes)
    with tls_front(tmp_path, ("127.0.0.1", lab.ports.source_imap)) as (port, _ca):
        customer = make_customer(
            tmp_path,
            lab,
            (big, small),
            lab_users.domain,
            monkeypatch,
            source_port=port,
            source={"tls": "implicit", "tls_verify": False, "daily_download_mb": 1},
        )
        state = migrate(spec_path=customer.spec, return_state=True)
    data = result_json(state)
    assert state.is_completed(), data
    rows = {m["mailbox"]: m for m in data["mailboxes"]}
    assert rows[big.email]["status"] == "Paused" and rows[big.email]["verdict"] == "ok"
    assert rows[big.email]["paused"].startswith("resumes at ")
    assert rows[big.email]["deferred"] == rows[big.email]["skipped"] > 0
    assert rows[small.email]["status"] == "Synced" and rows[small.email]["copied"] == 20
    assert data["totals"]["paused_mailboxes"] == 1 and "reconciles" in data["equation"]
    assert any("tls_verify is false" in w for w in data["warnings"])
    assert "warning: migration.source.tls_verify is false" in data["message"]
