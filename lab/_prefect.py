"""The lab's long-lived Prefect server (``prefect server start`` on 127.0.0.1).

Started by ``onboard lab up`` (``Lab.up(prefect=True)``), so ``onboard`` commands report to
one server that is already running instead of starting a temporary one each (20-35 s on a
busy 2-core machine). Its ``PREFECT_HOME`` (SQLite database, profiles) lives in
``<state>/prefect/home``; nothing under ``~/.prefect`` is touched. The lab itself imports no
Prefect: the server is another process, run from this interpreter's environment.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import sys
from pathlib import Path

from lab._errors import ServerStartError
from lab._info import ServerInfo
from lab._ports import HOST
from lab._process import live_pid, tail, wait_for

__all__ = ["PrefectServer"]

# Quiet and offline: no telemetry, no version check; the lab's own lease storage default.
_SERVER_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}
_STARTUP_TIMEOUT_S = 240.0  # migrations of a fresh database on a loaded 2-core machine


class PrefectServer:
    """``prefect server start`` on ``port`` with ``PREFECT_HOME`` under the lab's state."""

    name = "prefect"

    def __init__(self, state_dir: Path, *, port: int) -> None:
        self.state_dir = state_dir
        self.host = HOST
        self.port = port
        self.folder = state_dir / "prefect"
        self.home = self.folder / "home"
        self.pidfile = self.folder / "prefect.pid"
        self.log = self.folder / "prefect.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        """What ``PREFECT_API_URL`` must be for a client of this server."""
        return f"http://{self.host}:{self.port}/api"

    @property
    def started_once(self) -> bool:
        """True once ``up(prefect=True)`` ran for this lab (so ``status`` lists the server)."""
        return self.folder.exists()

    @property
    def pid(self) -> int | None:
        return live_pid(self.pidfile, str(self.state_dir))

    def pids(self) -> list[int]:
        return [pid for pid in (self.pid,) if pid is not None]

    def healthy(self) -> bool:
        """True when the server's ``/api/health`` answers 200."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            conn.request("GET", "/api/health")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def launch(self) -> None:
        if self.pid is not None:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env |= _SERVER_ENV | {"PREFECT_HOME": str(self.home)}
        cmd = [sys.executable, "-m", "prefect", "server", "start"]
        cmd += ["--host", self.host, "--port", str(self.port)]
        with open(self.log, "ab") as out:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=str(self.folder),
                start_new_session=True,
            )
        self.pidfile.write_text(f"{self._proc.pid}\n")

    def wait_ready(self, timeout: float = _STARTUP_TIMEOUT_S) -> None:
        def ready() -> bool:
            if self.pid is None:
                raise ServerStartError(self.name, "the process exited", log_tail=tail(self.log))
            return self.healthy()

        if not wait_for(ready, timeout=timeout, interval=0.25):
            raise ServerStartError(
                self.name, f"no Prefect API answers at {self.api_url}", log_tail=tail(self.log)
            )

    def reap(self) -> None:
        """Collect the exit status of a server this process started (no zombie)."""
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=0)

    def info(self) -> ServerInfo:
        pid = self.pid
        healthy = pid is not None and self.healthy()
        return ServerInfo(self.name, self.host, {"http": self.port}, pid, healthy, str(self.log))
