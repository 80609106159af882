"""A real Prefect deployment on one machine: ``prefect server start`` on the lab's PostgreSQL,
a process work pool, the onboarding deployments deployed from this checkout, and process
workers — what README "Running on a Prefect server" sets up, started by a test.

Each process gets its own ``PREFECT_HOME``; they share one result storage folder (the one
thing several machines would share as a remote storage block) so a parent run reads its child
runs' persisted results. Secrets reach the workers only as Prefect Secret blocks on the server:
no ``ONBOARD_SECRET_*`` variable is passed to them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.workers.process import ProcessWorker

from deployments.__main__ import main as deployments_main
from lab._process import alive, descendants
from lab.opsinbox import OpsInbox
from lab.postgres import PostgresServer
from support.checkout import ROOT, run_in_checkout
from support.free_ports import free_port

__all__ = ["PrefectCluster", "Worker", "prefect_cluster"]

_BIN = Path(sys.executable).parent
_START_TIMEOUT_S = 180.0
POOL = "onboarding"
# Heartbeats every 30 s (Prefect's minimum): a run silent for 45 s lost its worker.
ZOMBIE_AFTER_S = 45


@dataclass
class Worker:
    """One ``prefect worker start`` process and its log (which flow runs it submitted)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def submitted(self) -> set[str]:
        """The ids of the flow runs this worker submitted, from its own log lines."""
        text = self.log.read_text(errors="replace")
        marker = f"Worker '{self.name}' submitting flow run '"
        return {line.split(marker, 1)[1][:36] for line in text.splitlines() if marker in line}

    def kill(self) -> None:
        """SIGKILL the worker and every process it started (a machine that died)."""
        victims = [self.process.pid, *descendants(self.process.pid)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        for pid in victims:
            while alive(pid):
                time.sleep(0.05)


@dataclass
class PrefectCluster:
    """The server's API URL, its environment (for CLI calls) and the running workers."""

    api_url: str
    root: Path
    env: dict[str, str]
    inbox: OpsInbox
    workers: list[Worker] = field(default_factory=list)
    server: subprocess.Popen[bytes] | None = None

    def prefect(self, *args: str, timeout: float = 180.0) -> str:
        """Run the ``prefect`` CLI against this server from the checkout; its output."""
        return self.run(str(_BIN / "prefect"), *args, timeout=timeout)

    def run(self, *cmd: str, timeout: float = 180.0) -> str:
        """Run ``cmd`` in the checkout with this server's environment; its output."""
        env = self.env | {"PREFECT_HOME": str(self.root / "cli-home")}
        done = run_in_checkout(cmd, env=env, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(cmd)}: {done.stdout}{done.stderr}"
        return done.stdout

    def setup_automations(self) -> None:
        """``python -m deployments --automations`` into the ops inbox (the README's step; in
        this process, whose Prefect client must talk to this server)."""
        argv = ["--automations", "--notify-webhook", self.inbox.url]
        assert deployments_main([*argv, "--zombie-after", str(ZOMBIE_AFTER_S)]) == 0

    def start_worker(self, name: str, *, limit: int = 1) -> Worker:
        """``prefect worker start --pool onboarding --type process --name NAME``."""
        log = self.root / f"{name}.log"
        home = self.root / f"{name}-home"
        home.mkdir()
        process = subprocess.Popen(
            [
                str(_BIN / "prefect"),
                "worker",
                "start",
                "--pool",
                POOL,
                "--type",
                "process",
                "--name",
                name,
                "--limit",
                str(limit),
            ],
            cwd=ROOT,
            env=self.env | {"PREFECT_HOME": str(home)},
            stdin=subprocess.DEVNULL,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        worker = Worker(name, process, log)
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.kill()
        self.inbox.stop()
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()


def _environment(root: Path, api_url: str) -> dict[str, str]:
    """The test's environment without its Prefect and ONBOARD_SECRET_* settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "ONBOARD_SECRET_")) and k != "PYTEST_CURRENT_TEST"
    }
    return env | {
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOCAL_STORAGE_PATH": str(root / "results"),
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "ONBOARDING_HOME": str(ROOT),
        "PYTHONPATH": str(ROOT),
    }


def _wait_healthy(cluster: PrefectCluster, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert cluster.server is not None and cluster.server.poll() is None, log.read_text()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{cluster.api_url}/health", timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy in {_START_TIMEOUT_S:g} s: {log}")


@contextlib.contextmanager
def prefect_cluster(root: Path, postgres: PostgresServer) -> Iterator[PrefectCluster]:
    """A Prefect server on ``postgres`` (a database of its own) with every service running,
    the ``onboarding`` process pool and the migrate deployments deployed; no workers yet."""
    database = f"prefect_{secrets.token_hex(4)}"  # nothing left by an earlier cluster
    postgres.create_database(database)
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    inbox = OpsInbox(root / "ops").start()
    cluster = PrefectCluster(api_url, root, _environment(root, api_url), inbox)
    log = root / "server.log"
    server_env = cluster.env | {
        "PREFECT_HOME": str(root / "server-home"),
        "PREFECT_API_DATABASE_CONNECTION_URL": postgres.url(database).replace(
            "postgresql+psycopg://", "postgresql+asyncpg://"
        ),
        "PREFECT_UI_ENABLED": "false",
    }
    server_env.pop("PREFECT_API_URL")
    cluster.server = subprocess.Popen(
        [str(_BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        cwd=root,
        env=server_env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(cluster, log)
        with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as c:
            template = ProcessWorker.get_default_base_job_template()
            c.create_work_pool(
                WorkPoolCreate(name=POOL, type="process", base_job_template=template)
            )
        deploy = ["--no-prompt", "deploy", "--name", "migrate/initial"]
        cluster.prefect(*deploy, "--name", "migrate-batch/batch", "--name", "cutover/cut-over")
        yield cluster
    finally:
        cluster.stop()
