"""The lab's long-lived Prefect server (``prefect server start`` on 127.0.0.1).

Started by ``onboard lab up`` (``Lab.up(prefect=True)``), so ``onboard`` commands report to
one server that is already running instead of starting a temporary one each (20-35 s on a
busy 2-core machine). Its ``PREFECT_HOME`` (SQLite database, profiles) lives in
``<state>/prefect/home``; nothing under ``~/.prefect`` is touched. The lab itself imports no
Prefect: the server is another process, run from this interpreter's environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lab._spawned import SpawnedServer, http_answers

__all__ = ["PrefectServer"]

# Quiet and offline: no telemetry, warnings and errors only in its log.
_SERVER_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}
_STARTUP_TIMEOUT_S = 240.0  # migrations of a fresh database on a loaded 2-core machine


class PrefectServer(SpawnedServer):
    """``prefect server start`` on ``port`` with ``PREFECT_HOME`` under the lab's state."""

    name = "prefect"
    ready_interval = 0.25

    @property
    def home(self) -> Path:
        return self.folder / "home"

    @property
    def api_url(self) -> str:
        """What ``PREFECT_API_URL`` must be for a client of this server."""
        return f"{self.base_url}/api"

    @property
    def started_once(self) -> bool:
        """True once ``up(prefect=True)`` ran for this lab (so ``status`` lists the server)."""
        return self.folder.exists()

    def healthy(self) -> bool:
        return http_answers(self.host, self.port, "/api/health", expect=200)

    def spawn(self) -> subprocess.Popen[bytes]:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env |= _SERVER_ENV | {"PREFECT_HOME": str(self.home)}
        cmd = [sys.executable, "-m", "prefect", "server", "start"]
        with open(self.log, "ab") as out:
            return subprocess.Popen(
                [*cmd, "--host", self.host, "--port", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=str(self.folder),
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = _STARTUP_TIMEOUT_S) -> None:
        super().wait_ready(timeout)
