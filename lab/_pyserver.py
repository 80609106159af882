"""The lab's own Python servers (control panel, client-configuration host): one lifecycle.

Each runs as ``python -m <module> --state-dir D --port P`` with its pid and log in
``<state>/<name>/``; a subclass names the module and adds what only it has.
"""

from __future__ import annotations

import contextlib
import http.client
import subprocess
from pathlib import Path
from typing import ClassVar

from lab._errors import ServerStartError
from lab._info import ServerInfo
from lab._ports import HOST
from lab._process import alive, live_pid, read_pidfile, spawn_lab_module, tail, wait_for

__all__ = ["LabPythonServer", "http_ok"]


def http_ok(host: str, port: int) -> bool:
    """True if something answers ``GET /`` with any HTTP status."""
    conn = http.client.HTTPConnection(host, port, timeout=1)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


class LabPythonServer:
    """An HTTP server of the lab's own on ``port``; pid and log in ``<state>/<name>/``."""

    name: ClassVar[str]
    module: ClassVar[str]

    def __init__(self, state_dir: Path, *, port: int) -> None:
        self.state_dir = state_dir
        self.host = HOST
        self.port = port
        self.folder = state_dir / self.name
        self.pidfile = self.folder / f"{self.name}.pid"
        self.log = self.folder / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def available(self) -> bool:
        """Whether this checkout has the server at all (a subclass may say it has not)."""
        return True

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return live_pid(self.pidfile, str(self.state_dir))

    def pids(self) -> list[int]:
        pid = self.pid
        return [] if pid is None else [pid]

    def launch(self) -> None:
        if self.pid is not None or not self.available():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._proc = spawn_lab_module(
            self.module, state_dir=self.state_dir, port=self.port, log=self.log
        )
        self.pidfile.write_text(f"{self._proc.pid}\n")

    def wait_ready(self, timeout: float = 20.0) -> None:
        if not self.available():
            return

        def ready() -> bool:
            pid = read_pidfile(self.pidfile)
            if pid is None or not alive(pid):
                raise ServerStartError(self.name, "the process exited", log_tail=tail(self.log))
            return http_ok(self.host, self.port)

        if not wait_for(ready, timeout=timeout, interval=0.05):
            raise ServerStartError(
                self.name,
                f"nothing answers HTTP on {self.host}:{self.port}",
                log_tail=tail(self.log),
            )

    def reap(self) -> None:
        """Collect the exit status of a server this process started (no zombie)."""
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=0)

    def info(self) -> ServerInfo:
        pid = self.pid
        return ServerInfo(
            self.name,
            self.host,
            {"http": self.port},
            pid,
            pid is not None and http_ok(self.host, self.port),
            str(self.log),
        )
