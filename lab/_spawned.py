"""What the lab's own HTTP servers share: a process it spawned, its pidfile and log under
``<state>/<name>/``, a health check, and how it reports itself.

The control panel and the client-configuration host (``python -m lab.<module>``) and the
long-lived Prefect server (``prefect server start``) are each one of these.
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
from lab._process import live_pid, spawn_lab_module, tail, wait_for

__all__ = ["SpawnedServer", "http_answers"]


def http_answers(host: str, port: int, path: str = "/", *, expect: int | None = None) -> bool:
    """True if something answers ``GET path`` (with status ``expect``, when given)."""
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return expect is None or response.status == expect
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


class SpawnedServer:
    """One lab server process on ``port``; subclasses say how to start it (:meth:`spawn`)."""

    name: ClassVar[str]
    module: ClassVar[str] = ""  # ``python -m <module> --state-dir D --port P`` (lab's own servers)
    ready_interval: ClassVar[float] = 0.05

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
        return [pid for pid in (self.pid,) if pid is not None]

    def available(self) -> bool:
        """False when this lab has no such server (it is then never started)."""
        return True

    def healthy(self) -> bool:
        return http_answers(self.host, self.port)

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start the process: the lab's own ``module`` by default; a subclass may override."""
        if not self.module:
            raise NotImplementedError(f"{type(self).__name__} names no module to start")
        return spawn_lab_module(self.module, state_dir=self.state_dir, port=self.port, log=self.log)

    def launch(self) -> None:
        if self.pid is not None or not self.available():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._proc = self.spawn()
        self.pidfile.write_text(f"{self._proc.pid}\n")

    def wait_ready(self, timeout: float = 20.0) -> None:
        if not self.available():
            return

        def ready() -> bool:
            if self.pid is None:
                raise ServerStartError(self.name, "the process exited", log_tail=tail(self.log))
            return self.healthy()

        if not wait_for(ready, timeout=timeout, interval=self.ready_interval):
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
        healthy = pid is not None and self.healthy()
        return ServerInfo(self.name, self.host, {"http": self.port}, pid, healthy, str(self.log))
