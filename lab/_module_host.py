"""Start and stop the lab's own Python servers (``python -m lab.<module>``) by their pidfiles."""

from __future__ import annotations

import contextlib
import http.client
import subprocess
from pathlib import Path

from lab._errors import ServerStartError
from lab._info import ServerInfo
from lab._ports import HOST
from lab._process import alive, live_pid, read_pidfile, spawn_lab_module, tail, wait_for

__all__ = ["ModuleHost"]


def _http_ok(host: str, port: int) -> bool:
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


class ModuleHost:
    """A lab Python server (``python -m <module>``) on ``port``, files in ``<state>/<name>``."""

    name = ""
    module = ""

    def __init__(self, state_dir: Path, *, port: int) -> None:
        self.state_dir = state_dir
        self.host = HOST
        self.port = port
        self.folder = state_dir / self.name
        self.pidfile = self.folder / f"{self.name}.pid"
        self.log = self.folder / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None

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
        if self.pid is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._proc = spawn_lab_module(
            self.module, state_dir=self.state_dir, port=self.port, log=self.log
        )
        self.pidfile.write_text(f"{self._proc.pid}\n")

    def wait_ready(self, timeout: float = 20.0) -> None:
        def ready() -> bool:
            pid = read_pidfile(self.pidfile)
            if pid is None or not alive(pid):
                raise ServerStartError(self.name, "the process exited", log_tail=tail(self.log))
            return _http_ok(self.host, self.port)

        if not wait_for(ready, timeout=timeout, interval=0.05):
            raise ServerStartError(
                self.name,
                f"nothing answers HTTP on {self.host}:{self.port}",
                log_tail=tail(self.log),
            )

    def reap(self) -> None:
        """Collect the exit status of a host this process started (no zombie)."""
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
            pid is not None and _http_ok(self.host, self.port),
            str(self.log),
        )
