"""After ``onboard lab up`` the README's steps, typed one by one, work: the lab published the
customer's current DNS, the secrets resolve from the lab's state, and every command reports
to the lab's long-lived Prefect server (no temporary server, nothing on stderr)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from support.cli_lab import CliLab, cli_lab_up


@pytest.fixture(scope="module")
def cli_lab() -> Iterator[CliLab]:
    """A lab started by the real ``onboard lab up --free-ports`` (with its Prefect server);
    stopped, and its folder removed, at the end of the module."""
    root = Path(tempfile.mkdtemp(prefix="mrlab-hand-"))
    root.chmod(0o755)
    started = cli_lab_up(root)
    try:
        yield started
    finally:
        started.lab.down()
        shared = started.lab.shared_root
        shutil.rmtree(root, ignore_errors=True)
        if not str(shared).startswith(str(root)):
            shutil.rmtree(shared, ignore_errors=True)


def test_lab_up_lists_its_prefect_server(cli_lab: CliLab) -> None:
    """``lab up`` starts the long-lived Prefect server and ``lab status`` lists it healthy,
    with its own PREFECT_HOME under the lab's state folder."""
    servers = cli_lab.status["servers"]
    assert servers["prefect"]["healthy"] and servers["prefect"]["pid"]
    assert (cli_lab.state_dir / "prefect" / "home").is_dir()
    status = cli_lab.onboard("lab", "status", "--state-dir", str(cli_lab.state_dir))
    assert status.code == 0 and "prefect" in status.stdout


def test_readme_steps_by_hand_after_lab_up(cli_lab: CliLab, tmp_path: Path) -> None:
    """validate, provision, preflight, migrate, dns-plan, client-guides, lab publish-dns,
    cutover, verify: each exits 0 with nothing on stderr (but progress bars), without
    ``eval "$(onboard lab env)"`` or PREFECT_API_URL, and each ran on the lab's Prefect
    server."""
    spec = str(cli_lab.example_spec(tmp_path))
    where = ("--state-dir", str(cli_lab.state_dir))
    steps = [
        ("lab", "seed", *where),
        ("validate", spec),
        ("provision", spec),
        ("preflight", spec),
        ("migrate", spec, "--pass", "initial"),
        ("dns-plan", spec),
        ("client-guides", spec),
        ("lab", "publish-dns", spec, *where),
        ("cutover", spec, "--yes", "--wait", "120"),
        ("verify", spec),
    ]
    assert not [k for k in os.environ if k.startswith("PREFECT_API")]
    for step in steps:
        done = cli_lab.onboard(*step)
        assert done.code == 0, f"onboard {' '.join(step)}:\n{done.stdout}\n{done.stderr}"
        # stderr: only migrate's live progress bars; no note, warning or traceback
        lines = [ln for ln in done.stderr.splitlines() if ln.strip() and "━" not in ln]
        assert lines == [], f"onboard {' '.join(step)}: {done.stderr}"
    with (
        temporary_settings({PREFECT_API_URL: cli_lab.prefect_url}),
        get_client(sync_client=True) as client,
    ):
        names = {client.read_flow(r.flow_id).name for r in client.read_flow_runs(limit=200)}
    assert {"validate-users", "provision", "preflight", "migrate", "dns-plan"} <= names
    assert {"client-guides", "cutover", "verify"} <= names


def test_set_quota_limits_the_hosted_mailbox(cli_lab: CliLab) -> None:
    """``lab set-quota USER MB`` sets the hosted account's quota; an unknown user is one
    sentence and exit 2."""
    lab = cli_lab.lab
    lab.destination.set_account("quota@setq.test", "Quota-pw-123")
    where = ("--state-dir", str(cli_lab.state_dir))
    done = cli_lab.onboard("lab", "set-quota", "quota@setq.test", "5", *where)
    assert done.code == 0, done.stderr
    account = lab.destination.account("quota@setq.test")
    assert account is not None and account.quota_bytes == 5 * 1024 * 1024
    assert account.password == "Quota-pw-123"
    missing = cli_lab.onboard("lab", "set-quota", "nobody@setq.test", "5", *where)
    assert missing.code == 2 and "onboard provision" in missing.stderr
