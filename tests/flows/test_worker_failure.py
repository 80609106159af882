"""A failed flow run under ``prefect flow-run execute`` (what a worker runs) ends cleanly."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support.checkout import ROOT, run_in_checkout

from flows.validate_users import validate_users

EXAMPLE = ROOT / "examples" / "acme" / "customer.yaml"
# Loading the flow and starting the engine in a fresh interpreter on a 2-core machine.
_EXECUTE_TIMEOUT_S = 180


def _bad_customer(tmp_path: Path) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data.update(customer="Worker Fail Co", users_csv="users.csv", output_dir=str(tmp_path / "runs"))
    spec_path = tmp_path / "customer.yaml"
    spec_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "users.csv").write_text("email,password\nnot-an-address,short\n", encoding="utf-8")
    return spec_path


@pytest.fixture
def lab_fifo_in_checkout() -> Iterator[Path]:
    """A named pipe under the checkout's ``.lab/``, as a demo run there leaves (Dovecot's and
    Postfix's sockets and fifos): a deployment run's copy of the checkout must skip it."""
    fifo = ROOT / ".lab" / f"test-fifo-{secrets.token_hex(4)}"
    fifo.parent.mkdir(exist_ok=True)
    os.mkfifo(fifo)
    try:
        yield fifo
    finally:
        fifo.unlink()


@pytest.mark.usefixtures("lab_fifo_in_checkout")
def test_failed_run_under_flow_run_execute_has_no_traceback(
    prefect_server: str, tmp_path: Path
) -> None:
    """A deployment run that fails (a bad user list) prints no traceback and no "Unexpected
    result"; its state is Failed and its message is the report's one line; also in a checkout
    where the lab ran (``.prefectignore`` keeps its fifos out of the run's copy)."""
    from prefect.client.orchestration import get_client

    spec_path = _bad_customer(tmp_path)
    deployment_id = validate_users.to_deployment(name="worker-failure-test").apply()
    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(
            deployment_id, parameters={"spec_path": str(spec_path)}
        )
    from prefect.settings import get_current_settings

    api = get_current_settings().api.url
    assert api
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO"}
    done = run_in_checkout(
        [sys.executable, "-m", "prefect", "flow-run", "execute", str(run.id)],
        env=env,
        timeout=_EXECUTE_TIMEOUT_S,
    )
    output = done.stdout + done.stderr
    with get_client(sync_client=True) as client:
        final = client.read_flow_run(run.id).state
    assert final is not None and final.is_failed(), output
    # the report's one line (UserValidationResult.message): the CSV, its summary, the artifact
    assert final.message and "\n" not in final.message, output
    assert final.message.startswith(str(tmp_path / "users.csv")), final.message
    assert "see artifact" in final.message, final.message
    assert "Finished in state Failed" in output, output
    assert "Traceback" not in output, output
    assert "Unexpected result" not in output, output
